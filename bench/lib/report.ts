import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ROOT } from '../../test/support/process.js';
import type { LoadResult } from './load.js';

export interface Measured {
  readonly label: string;
  readonly result: LoadResult;
}

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A fixed-width table of throughput, latency and failures, one row per measured server. */
export function printTable(rows: readonly Measured[]): void {
  const header = [
    'server',
    'req/s',
    'p50 ms',
    'p99 ms',
    'mean ms',
    'requests',
    'errors',
    'non-2xx',
    'CPU',
    'req/CPU-s',
    'client CPU',
  ];
  const cells = rows.map(({ label, result }) => [
    label,
    number.format(result.requestsPerSecond),
    decimal.format(result.latencyP50Ms),
    decimal.format(result.latencyP99Ms),
    decimal.format(result.latencyMeanMs),
    number.format(result.requests),
    String(result.errors + result.timeouts),
    String(result.non2xx),
    result.serverCpuSeconds === undefined
      ? '-'
      : `${Math.round((100 * result.serverCpuSeconds) / result.durationSeconds)}%`,
    result.serverCpuSeconds ? number.format(result.requests / result.serverCpuSeconds) : '-',
    `${Math.round((100 * result.clientCpuSeconds) / result.durationSeconds)}%`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((row) => row[column]!.length)),
  );
  const line = (row: readonly string[]): string =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of cells) {
    console.log(line(row));
  }
}

export interface Verdict {
  /** Throughput ratio: what the target is set against. */
  readonly ratio: number;
  /**
   * Requests per CPU-second of the server, relative to the baseline's. Informative where the load
   * generator rather than the baseline's CPU caps the baseline's throughput.
   */
  readonly cpuEfficiencyRatio?: number;
  readonly target: number;
  readonly pass: boolean;
  /** Why a run cannot count whatever its ratio: failed or non-2xx requests. */
  readonly invalid?: string;
}

/** Throughput of `measured` relative to `baseline`, against a minimum ratio. */
export function compare(measured: LoadResult, baseline: LoadResult, target: number): Verdict {
  const ratio = measured.requestsPerSecond / baseline.requestsPerSecond;
  const efficiency =
    measured.serverCpuSeconds && baseline.serverCpuSeconds
      ? measured.requests / measured.serverCpuSeconds / (baseline.requests / baseline.serverCpuSeconds)
      : undefined;
  const failures = [measured, baseline].reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0);
  const invalid = failures > 0 ? `${failures} failed, timed-out or non-2xx requests` : undefined;
  return {
    ratio,
    ...(efficiency === undefined ? {} : { cpuEfficiencyRatio: efficiency }),
    target,
    pass: ratio >= target && !invalid,
    ...(invalid ? { invalid } : {}),
  };
}

export function printVerdict(what: string, verdict: Verdict): void {
  const status = verdict.pass ? 'PASS' : 'FAIL';
  const detail = verdict.invalid ? ` (invalid run: ${verdict.invalid})` : '';
  if (verdict.cpuEfficiencyRatio !== undefined) {
    console.log(
      `${what} per server CPU-second: ${decimal.format(verdict.cpuEfficiencyRatio)}× (for information)`,
    );
  }
  console.log(`${what}: ${decimal.format(verdict.ratio)}× (target ≥ ${verdict.target}×) ${status}${detail}`);
}

/**
 * Writes a benchmark's figures with its name, the date and the Node version to
 * bench/results/<name>.json, says where, and makes the process exit 1 when a target was missed.
 */
export async function reportResults(name: string, figures: object, pass: boolean): Promise<void> {
  const path = await writeResults(name, {
    name,
    date: new Date().toISOString(),
    node: process.version,
    ...figures,
  });
  console.log(`results: ${path}`);
  if (!pass) {
    process.exitCode = 1;
  }
}

/**
 * Runs a benchmark's `main`. A failure prints what went wrong and ends the process at once (exit 1),
 * even while sockets of half-stopped servers would keep it alive; `exitWhenDone` ends it after a
 * success too, for benchmarks whose closed clients hold the event loop open for a while.
 */
export function runBenchmark(
  name: string,
  main: () => Promise<void>,
  options: { exitWhenDone?: boolean } = {},
): void {
  main().then(
    () => {
      if (options.exitWhenDone) {
        process.exit(process.exitCode ?? 0);
      }
    },
    (error: unknown) => {
      console.error(`bench ${name} failed:`, error);
      process.exit(1);
    },
  );
}

/** Writes the run to bench/results/<name>.json (ignored by git) and returns the path. */
export async function writeResults(name: string, data: unknown): Promise<string> {
  const dir = join(ROOT, 'bench/results');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

/** Documents handled over a stretch of time, for the document-throughput benchmarks. */
export interface DocumentThroughput {
  readonly label: string;
  readonly docs: number;
  readonly seconds: number;
  readonly docsPerSecond: number;
}

/** `docs` handled since `startedAt` (a `process.hrtime.bigint()` reading). */
export function documentsSince(label: string, docs: number, startedAt: bigint): DocumentThroughput {
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  return { label, docs, seconds, docsPerSecond: docs / seconds };
}
