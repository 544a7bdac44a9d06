import autocannon from 'autocannon';

import type { ServerProcess } from './processes.js';

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly pipelining?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMeanMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly durationSeconds: number;
  /** CPU the server process used during the run, when the platform tells (Linux). */
  readonly serverCpuSeconds?: number;
  /**
   * CPU this process (the load generator) used during the run: near one CPU-second per second, the
   * generator rather than the server set the pace.
   */
  readonly clientCpuSeconds: number;
}

/** Long enough for any benchmark here, short enough that a forgotten option cannot hang a run. */
const MAX_DURATION_SECONDS = 120;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Drives `url` with autocannon at a fixed number of connections for a fixed time (loopback only). */
export async function runLoad(options: LoadOptions, server?: ServerProcess): Promise<LoadResult> {
  const target = new URL(options.url);
  if (!LOOPBACK.has(target.hostname)) {
    throw new Error(`benchmarks only target loopback addresses, not ${target.hostname}`);
  }
  const cpuBefore = await server?.cpuSeconds();
  const clientBefore = process.cpuUsage();
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: options.pipelining ?? 1,
    ...(options.headers ? { headers: { ...options.headers } } : {}),
    duration: Math.min(Math.max(options.durationSeconds, 1), MAX_DURATION_SECONDS),
    timeout: 10,
  });
  const client = process.cpuUsage(clientBefore);
  const cpuAfter = await server?.cpuSeconds();
  return {
    requestsPerSecond: result.requests.total / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMeanMs: result.latency.average,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    durationSeconds: result.duration,
    clientCpuSeconds: (client.user + client.system) / 1e6,
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { serverCpuSeconds: cpuAfter - cpuBefore } : {}),
  };
}

/** One load result for several runs of the same server: totals, the worst p99, the median p50. */
export function combine(rounds: readonly LoadResult[]): LoadResult {
  const sum = (pick: (r: LoadResult) => number): number => rounds.reduce((total, r) => total + pick(r), 0);
  const requests = sum((r) => r.requests);
  const durationSeconds = sum((r) => r.durationSeconds);
  const p50s = rounds.map((r) => r.latencyP50Ms).sort((a, b) => a - b);
  const cpu = rounds.every((r) => r.serverCpuSeconds !== undefined)
    ? { serverCpuSeconds: sum((r) => r.serverCpuSeconds!) }
    : {};
  return {
    requestsPerSecond: requests / durationSeconds,
    latencyP50Ms: p50s[Math.floor(p50s.length / 2)] ?? 0,
    latencyP99Ms: Math.max(...rounds.map((r) => r.latencyP99Ms)),
    latencyMeanMs: requests > 0 ? sum((r) => r.latencyMeanMs * r.requests) / requests : 0,
    requests,
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    non2xx: sum((r) => r.non2xx),
    durationSeconds,
    clientCpuSeconds: sum((r) => r.clientCpuSeconds),
    ...cpu,
  };
}

export interface Contender {
  readonly label: string;
  readonly url: string;
  readonly server: ServerProcess;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface AlternatingOptions {
  readonly connections: number;
  /** Measured time per contender, split evenly across the rounds. */
  readonly durationSeconds: number;
  /** An unrecorded run of each contender first, so both are measured with warm JIT. */
  readonly warmupSeconds: number;
  readonly rounds: number;
}

export interface ContenderResult {
  readonly label: string;
  readonly total: LoadResult;
  readonly rounds: readonly LoadResult[];
}

/**
 * Measures the contenders in alternating order (A B, B A, …), so drift in a shared, noisy machine
 * weighs on each of them alike instead of on whichever ran last.
 */
export async function measureAlternating(
  contenders: readonly Contender[],
  options: AlternatingOptions,
): Promise<ContenderResult[]> {
  const rounds = Math.max(1, Math.round(options.rounds));
  const perRound = options.durationSeconds / rounds;
  const results = contenders.map(() => [] as LoadResult[]);
  if (options.warmupSeconds > 0) {
    for (const contender of contenders) {
      await runLoad({
        url: contender.url,
        connections: options.connections,
        durationSeconds: options.warmupSeconds,
        ...(contender.headers ? { headers: contender.headers } : {}),
      });
    }
  }
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map((_, index) => index);
    if (round % 2 === 1) {
      order.reverse();
    }
    for (const index of order) {
      const contender = contenders[index]!;
      results[index]!.push(
        await runLoad(
          {
            url: contender.url,
            connections: options.connections,
            durationSeconds: perRound,
            ...(contender.headers ? { headers: contender.headers } : {}),
          },
          contender.server,
        ),
      );
    }
  }
  return contenders.map((contender, index) => ({
    label: contender.label,
    total: combine(results[index]!),
    rounds: results[index]!,
  }));
}

export interface CountedRequests {
  readonly url: string;
  readonly count: number;
  readonly inFlight: number;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * Sends exactly `count` requests with `inFlight` of them outstanding at a time, over as many keep-alive
 * connections, and resolves when all have answered; rejects on an error or an answer other than 2xx.
 * For benchmarks that need a fixed amount of work. autocannon writes requests it prepared once and
 * parses only the status line and framing of answers, so it spends about half the CPU per request that
 * node:http does (and a fraction of `fetch`'s): the load generator shares the machine with the stores,
 * so what it saves is left to them. Its results are sampled every 10 ms instead of every second, so it
 * resolves within 10 ms of the last answer.
 */
export async function sendRequests(options: CountedRequests): Promise<void> {
  const target = new URL(options.url);
  if (!LOOPBACK.has(target.hostname)) {
    throw new Error(`benchmarks only target loopback addresses, not ${target.hostname}`);
  }
  if (options.count <= 0) {
    return;
  }
  const result = await autocannon({
    url: options.url,
    connections: Math.min(options.inFlight, options.count),
    amount: options.count,
    method: (options.method ?? 'GET') as autocannon.Request['method'],
    ...(options.headers ? { headers: { ...options.headers } } : {}),
    ...(options.body === undefined ? {} : { body: options.body }),
    sampleInt: 10,
    timeout: 30,
  });
  const answered = result['2xx'];
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0 || answered !== options.count) {
    throw new Error(
      `${options.method ?? 'GET'} ${target.pathname}: ${answered} of ${options.count} answered 2xx ` +
        `(${result['4xx']} 4xx, ${result['5xx']} 5xx, ${result.errors} errors, ${result.timeouts} timeouts)`,
    );
  }
}
