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

/** BENCH_ROUNDS, or `fallback` when it is unset: how many alternating rounds a benchmark measures. */
export function benchRounds(fallback: number): number {
  const raw = process.env.BENCH_ROUNDS;
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 20) {
    throw new Error('BENCH_ROUNDS must be an integer between 1 and 20');
  }
  return value;
}

export function benchSettings(defaults: BenchSettings): BenchSettings {
  return {
    durationSeconds: seconds('BENCH_DURATION_SECONDS', defaults.durationSeconds),
    warmupSeconds: seconds('BENCH_WARMUP_SECONDS', defaults.warmupSeconds),
    rounds: benchRounds(defaults.rounds),
  };
}
