/**
 * Orchestrator benchmarks (`npm run bench:orchestrator`), against the local PostgreSQL and Redis. The hub
 * (role `all`) and the baseline (a BullMQ producer and worker) each run as their own process pinned to
 * one CPU, so each enqueues and processes on that CPU; this process sends the hub's requests.
 *  1. 1,000 runs (BENCH_RUNS) of a one-op no-op job through the API path (HTTP launch → PostgreSQL,
 *     where the run is created claimed by the hub's free run worker → execution → its final status and
 *     events) against as many raw BullMQ no-op jobs on the same Redis (enqueue, process, complete), both
 *     with 50 in flight, in BENCH_ROUNDS (default 3) alternating rounds; the hub stays up, idle, while the
 *     baseline runs. Target: the median round reaches ≥ 0.5× the baseline's throughput. Each round
 *     also sends as many launches to the bare floor (bare-hub.ts, pinned the same way): the same
 *     durable writes through the hub's own repository with no framework, authentication or executor,
 *     which tells what the hub's software costs from what keeping PostgreSQL as the source of truth does.
 *  2. Sensor tick → run STARTED latency. Target: p50 < 1 s, p99 < 3 s.
 *  3. executeInProcess overhead of `hello`. Target: < 5 ms.
 * Prints the figures and ratios, writes bench/results/orchestrator.json, and exits 1 when a target is missed.
 * The hub gets 200 run slots (ORCH_RUN_WORKER_CONCURRENCY) unless BENCH_RUN_SLOTS sets them: the
 * baseline's 50 adds in flight take none of its worker's 50 slots, but a launch holds one of the hub's
 * from before its insert until its run's final status is written, so the hub needs C + R × D slots, as
 * docs/orchestrator.md sizes an `all` process: 50 launches in flight, plus runs of up to 50 ms each at
 * 3,000 a second. With 100, sustained bursts sent a third of the runs through the queue.
 */
import 'reflect-metadata';

import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';

import { executeInProcess } from '../../src/orchestrator/core/index.js';
import { hello } from '../../src/site/hello.js';
import { BENCH_ADMIN_ENV, fetchToken } from '../lib/auth.js';
import { startHub, storeUrls } from '../lib/hub.js';
import { sendRequests, type CountedRequests } from '../lib/load.js';
import {
  describeBreakdown,
  isServerProcess,
  redisServerPid,
  startCpuBreakdown,
  type CpuBreakdown,
  type Party,
} from '../lib/party-cpu.js';
import {
  backgroundCpuLoad,
  freePort,
  isolateCpus,
  startNodeServer,
  TYPESCRIPT_LOADER,
  type ServerProcess,
} from '../lib/processes.js';
import { reportResults, runBenchmark } from '../lib/report.js';
import { benchInteger, benchRounds } from '../lib/settings.js';

/**
 * Runs (and raw jobs) measured per round (BENCH_RUNS). A burst of 1,000 lasts 0.1–0.5 s, so a GC pause
 * or a scheduling hiccup weighs on it; longer bursts cost minutes but say more.
 */
const RUNS = benchInteger('BENCH_RUNS', 1000, 100, 100_000);
/**
 * Items each side processes before the measured ones (BENCH_WARM_UP). The JIT needs a few thousand runs
 * to compile the hub's longer path, so with a short warm-up a measurement mostly compares how fast each
 * side compiles; with 8,000 the hub spent 0.39–0.48 ms of CPU per run against 0.62 ms after 2,000, and
 * raw BullMQ sped up as well, so the ratio moved less.
 */
const WARM_UP = benchInteger('BENCH_WARM_UP', 2000, 0, 100_000);
const IN_FLIGHT = 50;
/** The hub's run slots (BENCH_RUN_SLOTS; the hub accepts 1–1,000): see the header for the default. */
const RUN_SLOTS = benchInteger('BENCH_RUN_SLOTS', 4 * IN_FLIGHT, 1, 1000);
const LATENCY_SAMPLES = 40;
/**
 * Rounds of raw BullMQ and the API path, alternating, compared by their medians: one burst of 1,000
 * lasts a fraction of a second, and single bursts of the same build varied 1.6× on this machine.
 */
const ROUNDS = benchRounds(3);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One measured burst of RUNS launches to one side, from the first request until the last run ended. */
interface LaunchRound {
  seconds: number;
  launchSeconds: number;
  /** The launched-to server's own CPU time over the round, when it could be read. */
  serverCpu: { cpuSeconds?: number };
  cpu: CpuBreakdown;
  clientCpuMsPerLaunch: number;
  createdToEndedMs: Record<
    'startedAtLaunch' | 'throughTheQueue',
    { runs: number; p50?: number; p99?: number }
  >;
}

/** A server the launches go to: the hub, or the bare floor beside it. */
interface LaunchSide {
  readonly label: string;
  readonly server: ServerProcess;
  /** Where its runs are written, and the name its PostgreSQL backends go by. */
  readonly schema: string;
  readonly service: string;
  readonly launch: Omit<CountedRequests, 'count' | 'inFlight'>;
}

/** Sends `count` requests with IN_FLIGHT of them outstanding at a time (see {@link sendRequests}). */
function requests(count: number, request: Omit<CountedRequests, 'count' | 'inFlight'>): Promise<void> {
  return sendRequests({ ...request, count, inFlight: IN_FLIGHT });
}

/**
 * RUNS no-op jobs added by 50 concurrent producers and consumed with concurrency 50, both in one
 * process pinned like the hub (which also enqueues and executes its runs on its own CPU).
 */
async function rawBullmq(
  redisUrl: string,
  shared: readonly Party[],
): Promise<{ seconds: number; cpuSeconds?: number; cpu: CpuBreakdown }> {
  const prefix = `bench:raw:${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const worker = await startNodeServer({
    args: [...TYPESCRIPT_LOADER, fileURLToPath(new URL('./raw-worker.ts', import.meta.url))],
    env: {
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      QUEUE: 'raw',
      CONCURRENCY: String(IN_FLIGHT),
      PORT: String(port),
    },
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    url: `http://127.0.0.1:${port}`,
    readyPath: '/',
    label: 'raw BullMQ worker',
  });
  const queue = new Queue('raw', { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix });
  const produce = async (count: number): Promise<void> => {
    const produced = await fetch(`${worker.url}/produce?count=${count}&inFlight=${IN_FLIGHT}`, {
      method: 'POST',
    });
    if (produced.status !== 200) {
      throw new Error(`the raw producer failed: ${await produced.text()}`);
    }
  };
  const completed = async (): Promise<number> => (await queue.getJobCounts('completed')).completed ?? 0;
  try {
    await produce(WARM_UP);
    await until('the raw warm-up jobs', async () => (await completed()) >= WARM_UP);
    const breakdown = await startCpuBreakdown([
      { name: 'raw worker and producer (pinned)', pids: () => Promise.resolve([worker.pid]) },
      ...shared,
    ]);
    const cpuBefore = await worker.cpuSeconds();
    const started = performance.now();
    await produce(RUNS);
    await until('the raw jobs', async () => (await completed()) >= WARM_UP + RUNS);
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuUsed(cpuBefore, await worker.cpuSeconds());
    return { seconds, ...cpu, cpu: await breakdown.finish() };
  } finally {
    await worker.stop();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/**
 * The bare floor (bare-hub.ts): a `node:http` server, pinned like the hub, that makes the hub's durable
 * writes for each launch through the hub's own repository and nothing else. What it reaches is what
 * keeping PostgreSQL as the source of truth allows on this machine; the hub's distance to it is the
 * hub's software.
 */
async function startBareHub(postgresUrl: string, schema: string, service: string): Promise<ServerProcess> {
  const port = await freePort();
  return startNodeServer({
    args: [...TYPESCRIPT_LOADER, fileURLToPath(new URL('./bare-hub.ts', import.meta.url))],
    env: { DATABASE_URL: postgresUrl, PG_SCHEMA: schema, SERVICE_NAME: service, PORT: String(port) },
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    url: `http://127.0.0.1:${port}`,
    readyPath: '/',
    label: 'bare floor server',
  });
}

/** The clock V8's CPU profiles timestamp samples with (CLOCK_MONOTONIC, shared by all processes). */
function monotonicMicros(): bigint {
  return process.hrtime.bigint() / 1000n;
}

/** CPU time a process used between two readings, when both could be taken. */
function cpuUsed(before: number | undefined, after: number | undefined): { cpuSeconds?: number } {
  return before !== undefined && after !== undefined ? { cpuSeconds: after - before } : {};
}

/** Milliseconds of CPU per run or job, as text for the report. */
function cpuPerItem(cpuSeconds: number | undefined): string {
  return cpuSeconds === undefined
    ? 'CPU time not available'
    : `${((cpuSeconds * 1000) / RUNS).toFixed(2)} ms CPU each`;
}

async function main(): Promise<void> {
  const background = await backgroundCpuLoad();
  const cpus = await isolateCpus();
  if (background > 0.1) {
    console.log(
      `warning: other processes kept ${Math.round(background * 100)}% of the CPUs busy before the run; ` +
        'these figures are unreliable, run again on a quiet machine',
    );
  }
  // The stores the hub uses, so the bench reads the database the hub writes.
  const stores = storeUrls();
  const redisUrl = stores.redis;
  const id = randomBytes(4).toString('hex');
  const schema = `bench_orch_${id}`;
  const bareSchema = `${schema}_bare`;
  // PostgreSQL names each backend's client by this, which tells the hub's backends from the others.
  const hubService = `runtime-hub-bench-${id}`;
  const benchService = `runtime-hub-bench-probe-${id}`;
  // The bench's own definitions are TypeScript, so the hub runs from source through SWC.
  process.env.BENCH_HUB_ENTRY = 'src';
  const running: ServerProcess[] = [];
  const db = new pg.Pool({ connectionString: stores.postgres, max: 2, application_name: benchService });
  const backendsOf = async (service: string): Promise<number[]> =>
    (
      await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
        service,
      ])
    ).rows.map((r) => r.pid);
  const redisInfo = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redisInfo.connect();
  const redisPid = await redisServerPid(() => redisInfo.info('server'));
  redisInfo.disconnect();
  // Counted in both windows. Redis and PostgreSQL's server processes serve every client of theirs, so on
  // a shared machine their figures include other work.
  const shared: Party[] = [
    { name: 'Redis server', pids: () => Promise.resolve(redisPid === undefined ? [] : [redisPid]) },
    {
      name: 'PostgreSQL server processes (WAL writer…)',
      pids: (postgres) => Promise.resolve(postgres.filter(isServerProcess).map((p) => p.pid)),
    },
    { name: 'PostgreSQL backends of the bench', pids: () => backendsOf(benchService) },
    { name: 'load generator (this process)', pids: () => Promise.resolve([process.pid]) },
  ];
  try {
    const hub = await startHub({
      role: 'all',
      env: {
        PG_SCHEMA: schema,
        SERVICE_NAME: hubService,
        REDIS_PREFIX: `bench:orch:${id}`,
        ...BENCH_ADMIN_ENV,
        TOKEN_RATE_LIMIT: '100000',
        PG_POOL_MAX: '20',
        ORCH_MAX_CONCURRENT_RUNS: '-1',
        ORCH_RUN_WORKER_CONCURRENCY: String(RUN_SLOTS),
        ORCH_DEQUEUE_INTERVAL_MS: '1000',
        ORCH_CODE_LOCATIONS: fileURLToPath(new URL('./definitions.ts', import.meta.url)),
        // `ORCH_EAGER_START=false npm run bench:orchestrator` measures the queue path of an `api` process.
        ...(process.env.ORCH_EAGER_START ? { ORCH_EAGER_START: process.env.ORCH_EAGER_START } : {}),
      },
    });
    running.push(hub);
    const token = await fetchToken(hub.url);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const finishedIn = async (inSchema: string): Promise<number> =>
      (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${inSchema}".orch_runs WHERE job_name = 'bench_noop_job' AND status IN ('SUCCESS', 'FAILURE')`,
        )
      ).rows[0]?.n ?? 0;
    // What autovacuum does in production once the warm-up's rows arrive, for a PostgreSQL that runs
    // without it (this machine's does): the statistics tell the planner how large the run history has
    // become, and the cached plans are replanned with them (docs/orchestrator.md, "Plans").
    const analyze = async (inSchema: string): Promise<void> => {
      for (const table of ['orch_runs', 'orch_event_logs', 'orch_step_outputs']) {
        await db.query(`ANALYZE "${inSchema}".${table}`);
      }
    };

    // The HTTP layer's own ceiling, to read the API figure against: an authenticated read without I/O,
    // warmed up as long as the launches are (after 300 requests it measured a third of its warm pace).
    const floorUrl = `${hub.url}/orchestrator/jobs/bench_noop_job`;
    await requests(WARM_UP, { url: floorUrl, headers });
    const floorCpuBefore = await hub.cpuSeconds();
    const floorStarted = performance.now();
    await requests(RUNS, { url: floorUrl, headers });
    const authFloor = RUNS / ((performance.now() - floorStarted) / 1000);
    // What the hub spends on a request before any work of the route's own: set beside the CPU per run of
    // the API path and of the bare floor, it accounts for most of the difference.
    const authFloorCpu = cpuUsed(floorCpuBefore, await hub.cpuSeconds());

    // 1. Throughput through the API path, after as many warm-up runs as the baseline had jobs.
    const hubSide: LaunchSide = {
      label: 'hub',
      server: hub,
      schema,
      service: hubService,
      launch: {
        url: `${hub.url}/orchestrator/jobs/bench_noop_job/runs`,
        method: 'POST',
        headers,
        body: '{}',
      },
    };
    // The bare floor, warmed up as long: the same writes without the hub's software (bare-hub.ts).
    const bareService = `${hubService}-bare`;
    const bare = await startBareHub(stores.postgres, bareSchema, bareService);
    running.push(bare);
    const bareSide: LaunchSide = {
      label: 'bare floor',
      server: bare,
      schema: bareSchema,
      service: bareService,
      launch: {
        url: `${bare.url}/runs`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      },
    };
    for (const side of [hubSide, bareSide]) {
      await requests(WARM_UP, side.launch);
      await until(`the ${side.label}'s warm-up runs`, async () => (await finishedIn(side.schema)) >= WARM_UP);
      await analyze(side.schema);
    }
    // How the last round's runs went, created → ended, for those the launching process started itself
    // and those that went through the queue (its run workers had no free slot).
    const createdToEnded = async (inSchema: string): Promise<LaunchRound['createdToEndedMs']> => {
      const { rows: byPath } = await db.query<{ queued: boolean; p50: number; p99: number; n: number }>(
        `SELECT queued, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
         percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, count(*)::int AS n
       FROM (SELECT extract(epoch FROM r.end_time - r.created_at) * 1000 AS ms,
               EXISTS (SELECT 1 FROM "${inSchema}".orch_outbox o
                       WHERE o.kind = 'execute-run' AND o.payload->>'runId' = r.run_id::text) AS queued
             FROM "${inSchema}".orch_runs r WHERE r.job_name = 'bench_noop_job'
             ORDER BY r.id DESC LIMIT ${RUNS}) measured GROUP BY queued`,
      );
      const path = (queued: boolean): { runs: number; p50?: number; p99?: number } => {
        const row = byPath.find((r) => r.queued === queued);
        return row ? { runs: row.n, p50: Number(row.p50), p99: Number(row.p99) } : { runs: 0 };
      };
      return { startedAtLaunch: path(false), throughTheQueue: path(true) };
    };
    const launchRound = async (side: LaunchSide, round: number, idle: LaunchSide): Promise<LaunchRound> => {
      const breakdown = await startCpuBreakdown([
        { name: `${side.label} (pinned)`, pids: () => Promise.resolve([side.server.pid]) },
        { name: `PostgreSQL backends of the ${side.label}`, pids: () => backendsOf(side.service) },
        { name: `${idle.label} (idle, pinned)`, pids: () => Promise.resolve([idle.server.pid]) },
        ...shared,
      ]);
      const serverCpuBefore = await side.server.cpuSeconds();
      const windowStart = monotonicMicros();
      const clientCpuBefore = process.cpuUsage();
      const started = performance.now();
      await requests(RUNS, side.launch);
      const launchSeconds = (performance.now() - started) / 1000;
      const clientCpu = process.cpuUsage(clientCpuBefore);
      await until(
        `the ${side.label}'s runs to finish`,
        async () => (await finishedIn(side.schema)) >= WARM_UP + RUNS * (round + 1),
      );
      const seconds = (performance.now() - started) / 1000;
      const serverCpu = cpuUsed(serverCpuBefore, await side.server.cpuSeconds());
      const cpu = await breakdown.finish();
      if (process.env.BENCH_HUB_NODE_FLAGS?.includes('--cpu-prof')) {
        // The hub's profile covers its whole life; its sample times use this same clock, so these bound
        // the samples of the measured launches.
        console.log(`round ${round + 1} measured window, monotonic µs: ${windowStart}-${monotonicMicros()}`);
      }
      return {
        seconds,
        launchSeconds,
        serverCpu,
        cpu,
        clientCpuMsPerLaunch: (clientCpu.user + clientCpu.system) / 1000 / RUNS,
        createdToEndedMs: await createdToEnded(side.schema),
      };
    };
    const rounds: { raw: Awaited<ReturnType<typeof rawBullmq>>; api: LaunchRound; bare: LaunchRound }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // The hub and the bare floor share the baseline's CPU, idle but for the hub's periodic passes:
      // counted, so it shows.
      const raw = await rawBullmq(redisUrl, [
        { name: 'hub (idle, pinned)', pids: () => Promise.resolve([hub.pid]) },
        { name: 'bare floor (idle, pinned)', pids: () => Promise.resolve([bare.pid]) },
        ...shared,
      ]);
      const api = await launchRound(hubSide, round, bareSide);
      rounds.push({ raw, api, bare: await launchRound(bareSide, round, hubSide) });
    }
    const ratioOf = (r: (typeof rounds)[number]): number => r.raw.seconds / r.api.seconds;
    // The round whose ratio is the median, reported in detail (its own raw and API figures together).
    const median = [...rounds].sort((a, b) => ratioOf(a) - ratioOf(b))[Math.floor(rounds.length / 2)]!;
    const { raw } = median;
    const rawSeconds = raw.seconds;
    const {
      seconds: apiSeconds,
      cpu: apiCpu,
      clientCpuMsPerLaunch,
      createdToEndedMs,
      serverCpu: hubCpu,
    } = median.api;
    const failedRuns =
      (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${schema}".orch_runs WHERE status <> 'SUCCESS'`,
        )
      ).rows[0]?.n ?? 0;

    // 2. Sensor tick → run STARTED.
    await fetch(`${hub.url}/orchestrator/sensors/bench_latency_sensor:start`, {
      method: 'POST',
      headers,
      body: '{}',
    });
    let latencies: number[] = [];
    await until(
      `${LATENCY_SAMPLES} sensor ticks`,
      async () => {
        const { rows } = await db.query<{ ms: number }>(
          `SELECT extract(epoch FROM r.start_time - t.started_at) * 1000 AS ms
           FROM "${schema}".orch_ticks t JOIN "${schema}".orch_runs r ON r.run_id = ANY(t.run_ids)
           WHERE t.instigator_name = 'bench_latency_sensor' AND r.start_time IS NOT NULL ORDER BY t.id`,
        );
        latencies = rows.map((r) => Number(r.ms));
        return latencies.length >= LATENCY_SAMPLES;
      },
      60_000,
    );
    await fetch(`${hub.url}/orchestrator/sensors/bench_latency_sensor:stop`, {
      method: 'POST',
      headers,
      body: '{}',
    });

    // 3. executeInProcess overhead of hello (its ops are trivial, so this is the executor's own cost).
    for (let i = 0; i < 200; i++) {
      await executeInProcess(hello);
    }
    const samples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      await executeInProcess(hello);
      samples.push(performance.now() - t0);
    }

    /** A side's figures in the results file, from the median round. */
    const figuresOf = (r: LaunchRound) => ({
      ...r.serverCpu,
      seconds: r.seconds,
      perSecond: RUNS / r.seconds,
      launchesPerSecond: RUNS / r.launchSeconds,
      loadGeneratorCpuMsPerLaunch: r.clientCpuMsPerLaunch,
      createdToEndedMs: r.createdToEndedMs,
      cpu: r.cpu,
    });
    const rawPerSecond = RUNS / rawSeconds;
    const apiPerSecond = RUNS / apiSeconds;
    const results = {
      runs: RUNS,
      inFlight: IN_FLIGHT,
      rounds: rounds.map((r) => ({
        rawPerSecond: RUNS / r.raw.seconds,
        apiPerSecond: RUNS / r.api.seconds,
        barePerSecond: RUNS / r.bare.seconds,
        ratio: ratioOf(r),
        bareRatio: r.raw.seconds / r.bare.seconds,
      })),
      cpus,
      hubEntry: hub.entry,
      rawBullmq: { ...raw, perSecond: rawPerSecond },
      apiPath: { ...figuresOf(median.api), failedRuns },
      bareFloor: figuresOf(median.bare),
      authenticatedHttpFloorPerSecond: authFloor,
      authenticatedHttpFloorCpuSeconds: authFloorCpu.cpuSeconds,
      throughputRatio: apiPerSecond / rawPerSecond,
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
    const verdicts = {
      throughput: results.throughputRatio >= 0.5,
      sensorLatency: results.sensorLatencyMs.p50 < 1000 && results.sensorLatencyMs.p99 < 3000,
      executeInProcess: results.executeInProcessHelloMs.mean < 5,
    };
    const f = (n: number, digits = 0): string => n.toFixed(digits);
    console.log(`bench orchestrator: hub ${hub.entry}, APP_ROLE=all; ${cpus}`);
    results.rounds.forEach((r, i) =>
      console.log(
        `  round ${i + 1}: raw BullMQ ${f(r.rawPerSecond)} jobs/s, API path ${f(r.apiPerSecond)} runs/s, ratio ${f(r.ratio, 2)}×; bare floor ${f(r.barePerSecond)} runs/s, ${f(r.bareRatio, 2)}×`,
      ),
    );
    console.log(`  the median round (by ratio) in detail:`);
    console.log(
      `  raw BullMQ, ${RUNS} no-op jobs                 ${f(rawPerSecond)} jobs/s (${f(rawSeconds, 2)} s)`,
    );
    console.log(
      `  API path, ${RUNS} runs of a 1-op no-op job     ${f(apiPerSecond)} runs/s (${f(apiSeconds, 2)} s; launches ${f(results.apiPath.launchesPerSecond)}/s)`,
    );
    for (const [what, stats] of Object.entries(createdToEndedMs)) {
      const label = what === 'startedAtLaunch' ? 'started at launch' : 'through the queue';
      console.log(
        `  runs ${label.padEnd(39)} ${stats.runs}${stats.runs > 0 ? `, created → ended p50 ${f(stats.p50 ?? NaN)} ms, p99 ${f(stats.p99 ?? NaN)} ms` : ''}`,
      );
    }
    console.log(
      `  CPU per item: API path ${cpuPerItem(hubCpu.cpuSeconds)}, raw BullMQ ${cpuPerItem(raw.cpuSeconds)}`,
    );
    console.log(
      `  load generator                              ${f(clientCpuMsPerLaunch, 2)} ms CPU per launch (its own CPU)`,
    );
    console.log(`  CPU per job while raw BullMQ ran (${f(raw.cpu.seconds, 2)} s), by party:`);
    describeBreakdown(raw.cpu, RUNS).forEach((line) => console.log(line));
    console.log(`  CPU per run while the API path ran (${f(apiCpu.seconds, 2)} s), by party:`);
    describeBreakdown(apiCpu, RUNS).forEach((line) => console.log(line));
    const bareSeconds = median.bare.seconds;
    console.log(
      `  bare floor (node:http + the hub's repository) ${f(RUNS / bareSeconds)} runs/s (${f(bareSeconds, 2)} s), ${f(rawSeconds / bareSeconds, 2)}× raw BullMQ; API path / bare floor ${f(bareSeconds / apiSeconds, 2)}×`,
    );
    console.log(
      `  CPU per run: bare floor ${cpuPerItem(median.bare.serverCpu.cpuSeconds)}, load generator ${f(median.bare.clientCpuMsPerLaunch, 2)} ms per launch`,
    );
    console.log(`  CPU per run while the bare floor ran (${f(median.bare.cpu.seconds, 2)} s), by party:`);
    describeBreakdown(median.bare.cpu, RUNS).forEach((line) => console.log(line));
    console.log(
      `  authenticated HTTP floor (GET, no I/O)      ${f(authFloor)} requests/s, hub ${cpuPerItem(authFloorCpu.cpuSeconds)}`,
    );
    console.log(
      `  ratio API path / raw BullMQ                 ${f(results.throughputRatio, 2)}× (target ≥ 0.5×)`,
    );
    console.log(
      `  sensor tick → run STARTED                   p50 ${f(results.sensorLatencyMs.p50)} ms, p99 ${f(results.sensorLatencyMs.p99)} ms over ${latencies.length} ticks (target < 1000 / < 3000)`,
    );
    console.log(
      `  executeInProcess(hello)                     mean ${f(results.executeInProcessHelloMs.mean, 3)} ms, p50 ${f(results.executeInProcessHelloMs.p50, 3)} ms, p99 ${f(results.executeInProcessHelloMs.p99, 3)} ms (target < 5 ms)`,
    );
    for (const [what, pass] of Object.entries(verdicts)) {
      console.log(`  ${what.padEnd(43)} ${pass ? 'meets its target' : 'MISSES its target'}`);
    }
    await reportResults(
      'orchestrator',
      { backgroundCpuLoad: background, ...results, verdicts },
      !Object.values(verdicts).includes(false),
    );
  } finally {
    await Promise.allSettled(running.map((server) => server.stop()));
    for (const dropped of [schema, bareSchema]) {
      await db.query(`DROP SCHEMA IF EXISTS "${dropped}" CASCADE`).catch(() => undefined);
    }
    await db.end();
  }
}

// Closed Redis and pool sockets can hold the event loop open for a while after the report.
runBenchmark('orchestrator', main, { exitWhenDone: true });
