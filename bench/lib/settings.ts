/** Run-length knobs shared by every benchmark, overridable from the environment for quick local tries. */
export interface BenchSettings {
  /** Measured time per server, in total across the rounds. */
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
}

function seconds(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 120) {
    throw new Error(`${name} must be a number of seconds between 0 and 120`);
  }
  return value;
}

/**
 * The integer environment variable `name`, or `fallback` when it is unset; any other value stops the
 * bench and says what it may be.
 */
export function benchInteger(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
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
