/** Run-length knobs shared by every benchmark, overridable from the environment for quick local tries. */
export interface BenchSettings {
  /** Measured time per server, in total across the rounds. */
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
}

/** The environment variable `name` as a number, `fallback` when it is unset or empty (not yet checked). */
function environmentNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

/**
 * The numeric environment variable `name` (a fraction, seconds, any finite number), or `fallback` when it
 * is unset; anything else, or a value outside `min`–`max`, stops the bench and says what it may be,
 * `unit` naming what the number counts ("seconds").
 */
export function benchNumber(name: string, fallback: number, min: number, max: number, unit?: string): number {
  const value = environmentNumber(name, fallback);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number${unit ? ` of ${unit}` : ''} between ${min} and ${max}`);
  }
  return value;
}

function seconds(name: string, fallback: number): number {
  return benchNumber(name, fallback, 0, 120, 'seconds');
}

/**
 * The integer environment variable `name`, or `fallback` when it is unset; any other value stops the
 * bench and says what it may be.
 */
export function benchInteger(name: string, fallback: number, min: number, max: number): number {
  const value = environmentNumber(name, fallback);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** BENCH_ROUNDS, or `fallback` when it is unset: how many alternating rounds a benchmark measures. */
export function benchRounds(fallback: number): number {
  return benchInteger('BENCH_ROUNDS', fallback, 1, 20);
}

export function benchSettings(defaults: BenchSettings): BenchSettings {
  return {
    durationSeconds: seconds('BENCH_DURATION_SECONDS', defaults.durationSeconds),
    warmupSeconds: seconds('BENCH_WARMUP_SECONDS', defaults.warmupSeconds),
    rounds: benchRounds(defaults.rounds),
  };
}

/**
 * The environment variable `name`, which a process the bench starts cannot run without (its stores, port
 * and names are handed to it this way); a missing or empty one stops it before it connects to anything.
 */
export function requiredSetting(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is required`);
  }
  return value;
}
