/**
 * Submit → applied latency: how long work a client hands the hub takes to be done by the orchestrator
 * (sensor wake-up, run, apply), measured one submission at a time so each figure is the latency a lone
 * user sees, not queueing behind the others.
 */
export interface LatencyReport {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** The nearest-rank percentile of `values` (0 < p ≤ 100). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? Number.NaN;
}

export function summarize(latencies: readonly number[]): LatencyReport {
  return {
    samples: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
    meanMs: latencies.reduce((sum, v) => sum + v, 0) / latencies.length,
  };
}

/**
 * Submits `count` times in turn; after each submission polls `state` every `pollMs` until it answers
 * `applied` (or throws on `failed`, or after `timeoutMs`), and records the elapsed time.
 */
export async function measureSubmitToApplied(options: {
  readonly count: number;
  readonly submit: (index: number) => Promise<string>;
  readonly state: (handle: string) => Promise<'pending' | 'applied' | 'failed'>;
  readonly pollMs?: number;
  readonly timeoutMs?: number;
}): Promise<LatencyReport> {
  const latencies: number[] = [];
  for (let index = 0; index < options.count; index++) {
    const started = performance.now();
    const handle = await options.submit(index);
    for (;;) {
      const state = await options.state(handle);
      if (state === 'applied') {
        break;
      }
      if (state === 'failed') {
        throw new Error(`submission ${index} (${handle}) failed`);
      }
      if (performance.now() - started > (options.timeoutMs ?? 120_000)) {
        throw new Error(
          `submission ${index} (${handle}) was not applied within ${options.timeoutMs ?? 120_000} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 25));
    }
    latencies.push(performance.now() - started);
  }
  return summarize(latencies);
}

export function formatLatency(label: string, report: LatencyReport): string {
  return (
    `${label}: p50 ${(report.p50Ms / 1000).toFixed(2)} s, p99 ${(report.p99Ms / 1000).toFixed(2)} s, ` +
    `max ${(report.maxMs / 1000).toFixed(2)} s, mean ${(report.meanMs / 1000).toFixed(2)} s over ${report.samples}`
  );
}
