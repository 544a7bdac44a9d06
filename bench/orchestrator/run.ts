/**
 * Orchestrator benchmarks (`npm run bench:orchestrator`), against the local PostgreSQL and Redis:
 *  1. 1,000 runs of a one-op no-op job through the API path (HTTP launch → PostgreSQL → coordinator →
 *     BullMQ → run worker → events) against 1,000 raw BullMQ no-op jobs on the same Redis;
 *  2. sensor tick → run STARTED latency;
 *  3. executeInProcess overhead of `hello`.
 * Prints the figures and ratios, writes bench/results/orchestrator.json, and exits 1 when a target is missed.
 */
import 'reflect-metadata';

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';

import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/app-config.js';
import { PostgresService } from '../../src/infra/postgres/postgres.service.js';
import { RunService } from '../../src/orchestrator/api/runs.service.js';
import { executeInProcess } from '../../src/orchestrator/core/index.js';
import { hello } from '../../src/site/hello.js';
import { backgroundCpuLoad } from '../lib/processes.js';
import { writeResults } from '../lib/report.js';

const RUNS = 1000;
const CONNECTIONS = 50;
const LATENCY_SAMPLES = 40;

const id = randomBytes(4).toString('hex');
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/runtime_hub_test';
const prefix = `bench:${id}`;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function rawBullmq(): Promise<number> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-raw', { connection, prefix });
  let done = 0;
  let finished: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const worker = new Worker('bench-raw', () => Promise.resolve(null), {
    connection: new Redis(redisUrl, { maxRetriesPerRequest: null }),
    prefix,
    concurrency: CONNECTIONS,
  });
  worker.on('completed', () => {
    if (++done === RUNS) {
      finished();
    }
  });
  await worker.waitUntilReady();
  const started = performance.now();
  // As many producers in flight as the API benchmark has HTTP connections.
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < RUNS) {
        next++;
        await queue.add('noop', {}, { removeOnComplete: true });
      }
    }),
  );
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return seconds;
}

async function waitForFinished(postgres: PostgresService, count: number): Promise<void> {
  for (;;) {
    const { rows } = await postgres.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orch_runs WHERE job_name = 'bench_noop_job' AND status IN ('SUCCESS', 'FAILURE')`,
    );
    if ((rows[0]?.n ?? 0) >= count) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  const background = await backgroundCpuLoad();
  if (background > 0.1) {
    console.log(
      `warning: other processes kept ${Math.round(background * 100)}% of the CPUs busy before the run; ` +
        'these figures are unreliable, run again on a quiet machine',
    );
  }
  const blobDir = await mkdtemp(join(tmpdir(), 'rh-bench-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    MONGO_URL: process.env.BENCH_MONGO_URL ?? 'mongodb://127.0.0.1:27017',
    MONGO_DB: `rh_bench_${id}`,
    PG_SCHEMA: `bench_${id}`,
    PG_POOL_MAX: '20',
    REDIS_PREFIX: prefix,
    BLOB_DIR: blobDir,
    LOG_LEVEL: 'warn',
    ADMIN_USERNAME: 'bench',
    ADMIN_PASSWORD: 'bench-password-123',
    TOKEN_RATE_LIMIT: '100000',
    ORCH_MAX_CONCURRENT_RUNS: '-1',
    ORCH_RUN_WORKER_CONCURRENCY: String(CONNECTIONS),
    ORCH_DEQUEUE_INTERVAL_MS: '1000',
    ORCH_CODE_LOCATIONS: fileURLToPath(new URL('./definitions.ts', import.meta.url)),
  });
  const app = await createApp(config, { logger: pino({ level: 'warn' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const postgres = app.get(PostgresService);
  try {
    const tokenRes = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username: 'bench', password: 'bench-password-123' }),
    });
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    // The HTTP layer's own ceiling, for reading the API figure: a public route, and an authenticated read
    // that touches no database (after a warm-up, so token caches are hot).
    const floor = async (url: string, withAuth: boolean): Promise<number> => {
      const run = (amount: number) =>
        autocannon({
          url: `${base}${url}`,
          ...(withAuth ? { headers } : {}),
          amount,
          connections: CONNECTIONS,
        });
      await run(200);
      const result = await run(RUNS);
      return RUNS / (result.duration || 1);
    };
    const publicFloor = await floor('/version', false);
    const authFloor = await floor('/orchestrator/jobs/bench_noop_job', true);

    // 1. Throughput.
    const rawSeconds = await rawBullmq();
    const started = performance.now();
    const load = await autocannon({
      url: `${base}/orchestrator/jobs/bench_noop_job/runs`,
      method: 'POST',
      headers,
      body: '{}',
      amount: RUNS,
      connections: CONNECTIONS,
    });
    const launchSeconds = (performance.now() - started) / 1000;
    if (load.non2xx > 0) {
      throw new Error(`${load.non2xx} launches failed`);
    }
    await waitForFinished(postgres, RUNS);
    const apiSeconds = (performance.now() - started) / 1000;

    // The same 1,000 runs launched through the service in-process: the orchestrator without HTTP and auth.
    const service = app.get(RunService);
    const serviceStarted = performance.now();
    let launched = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (launched < RUNS) {
          launched++;
          await service.launch('bench_noop_job', { tags: { phase: 'service' } });
        }
      }),
    );
    await waitForFinished(postgres, 2 * RUNS);
    const serviceSeconds = (performance.now() - serviceStarted) / 1000;

    const failed = await postgres.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orch_runs WHERE status = 'FAILURE'`,
    );

    // 2. Sensor tick → run STARTED.
    await fetch(`${base}/orchestrator/sensors/bench_latency_sensor:start`, {
      method: 'POST',
      headers,
      body: '{}',
    });
    let latencies: number[] = [];
    const deadline = Date.now() + 60_000;
    while (latencies.length < LATENCY_SAMPLES && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const { rows } = await postgres.query<{ ms: number }>(
        `SELECT extract(epoch FROM r.start_time - t.started_at) * 1000 AS ms
         FROM orch_ticks t JOIN orch_runs r ON r.run_id = ANY(t.run_ids)
         WHERE t.instigator_name = 'bench_latency_sensor' AND r.start_time IS NOT NULL ORDER BY t.id`,
      );
      latencies = rows.map((r) => Number(r.ms));
    }
    await fetch(`${base}/orchestrator/sensors/bench_latency_sensor:stop`, {
      method: 'POST',
      headers,
      body: '{}',
    });

    // 3. executeInProcess overhead of hello.
    for (let i = 0; i < 200; i++) {
      await executeInProcess(hello);
    }
    const samples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      await executeInProcess(hello);
      samples.push(performance.now() - t0);
    }

    const results = {
      runs: RUNS,
      connections: CONNECTIONS,
      rawBullmq: { seconds: rawSeconds, perSecond: RUNS / rawSeconds },
      apiPath: {
        launchSeconds,
        seconds: apiSeconds,
        perSecond: RUNS / apiSeconds,
        launchesPerSecond: RUNS / launchSeconds,
        failedRuns: failed.rows[0]?.n ?? 0,
      },
      servicePath: { seconds: serviceSeconds, perSecond: RUNS / serviceSeconds },
      throughputRatio: rawSeconds / apiSeconds,
      serviceThroughputRatio: rawSeconds / serviceSeconds,
      httpFloorRequestsPerSecond: { public: publicFloor, authenticated: authFloor },
      sensorLatencyMs: {
        samples: latencies.length,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
      },
      executeInProcessHelloMs: {
        mean: samples.reduce((a, b) => a + b, 0) / samples.length,
        p50: percentile(samples, 50),
        p99: percentile(samples, 99),
      },
    };
    const f = (n: number, d = 1): string => n.toFixed(d);
    console.log('orchestrator benchmarks');
    console.log(
      `  raw BullMQ, ${RUNS} no-op jobs            ${f(results.rawBullmq.perSecond, 0)} jobs/s (${f(rawSeconds, 2)} s)`,
    );
    console.log(
      `  API path, ${RUNS} runs of a 1-op no-op job  ${f(results.apiPath.perSecond, 0)} runs/s (${f(apiSeconds, 2)} s; launches ${f(results.apiPath.launchesPerSecond, 0)}/s)`,
    );
    console.log(
      `  HTTP floor: public GET ${f(publicFloor, 0)}/s, authenticated GET ${f(authFloor, 0)}/s (ratio to raw ${f(authFloor / results.rawBullmq.perSecond, 2)}×)`,
    );
    console.log(
      `  service path (no HTTP), ${RUNS} runs       ${f(results.servicePath.perSecond, 0)} runs/s (${f(serviceSeconds, 2)} s)`,
    );
    console.log(`  ratio service path / raw BullMQ        ${f(results.serviceThroughputRatio, 2)}×`);
    console.log(`  ratio API path / raw BullMQ            ${f(results.throughputRatio, 2)}× (target ≥ 0.5×)`);
    console.log(
      `  sensor tick → run STARTED              p50 ${f(results.sensorLatencyMs.p50, 0)} ms, p99 ${f(results.sensorLatencyMs.p99, 0)} ms over ${latencies.length} ticks (target < 1000 / < 3000)`,
    );
    console.log(
      `  executeInProcess(hello)                mean ${f(results.executeInProcessHelloMs.mean, 3)} ms, p50 ${f(results.executeInProcessHelloMs.p50, 3)} ms, p99 ${f(results.executeInProcessHelloMs.p99, 3)} ms (target < 5 ms)`,
    );
    const verdicts = {
      throughput: results.throughputRatio >= 0.5,
      sensorLatency: results.sensorLatencyMs.p50 < 1000 && results.sensorLatencyMs.p99 < 3000,
      executeInProcess: results.executeInProcessHelloMs.mean < 5,
    };
    for (const [what, pass] of Object.entries(verdicts)) {
      console.log(`  ${what.padEnd(38)} ${pass ? 'meets its target' : 'MISSES its target'}`);
    }
    const path = await writeResults('orchestrator', {
      name: 'orchestrator',
      date: new Date().toISOString(),
      node: process.version,
      backgroundCpuLoad: background,
      ...results,
      verdicts,
    });
    console.log(`results: ${path}`);
    if (Object.values(verdicts).includes(false)) {
      process.exitCode = 1;
    }
  } finally {
    await postgres.query(`DROP SCHEMA IF EXISTS "${config.postgres.schema}" CASCADE`).catch(() => undefined);
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) {
      await redis.del(...keys);
    }
    redis.disconnect();
    await app.close();
    await rm(blobDir, { recursive: true, force: true });
  }
}

main().then(
  // Exit explicitly: BullMQ and pool sockets of a closed app can hold the event loop open for a while.
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(`bench orchestrator failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
