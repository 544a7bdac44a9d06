/**
 * DRS benchmarks (`npm run bench:drs`), one run against the real services on loopback:
 *
 * 1. `GET /ga4gh/drs/v1/objects/{random id}` over 10,000 seeded objects (BENCH_DRS_OBJECTS), at 16 and at 64 connections,
 *    against a bare node:http server answering the same DrsObject JSON (the hub's own bytes) from memory.
 *    The hub's object cache is filled first (it loads objects as they are asked for), so both answer from
 *    memory and the ratio is what the framework, the auth check and the rendering cost. Targets: >= 0.5x
 *    the baseline's throughput; p99 <= 10 ms at 16 connections.
 * 2. Bulk `POST /ga4gh/drs/v1/objects` with 1,000 ids. Target: < 100 ms.
 * 3. Uploading a 1 GiB file through `POST /objects:upload`. Target: >= 0.7x the plain disk write speed
 *    measured here, on the same file system, just before.
 *
 * The hub runs as a real process with isolated MONGO_DB / PG_SCHEMA / REDIS_PREFIX and LOG_LEVEL=warn;
 * everything it creates is removed at the end.
 *
 * Knobs for a quick run: BENCH_DRS_OBJECTS (100–100,000, default 10,000), BENCH_UPLOAD_MIB (1–16,384,
 * default 1,024), BENCH_WARMUP_SECONDS (0–120, default 3) and BENCH_ROUND_SECONDS (1–120, default 10) per
 * connection count and server, BENCH_ROUNDS (1–20, default 3); any other value stops the bench at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import autocannon from 'autocannon';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { Redis } from 'ioredis';

import { mintId } from '../../src/common/ids/ids.js';
import type { ObjectDoc } from '../../src/drs/object.model.js';
import { collect, exited, freePort, ROOT, waitForHttp } from '../../test/support/process.js';
import { BENCH_ADMIN_ENV, fetchToken } from '../lib/auth.js';
import { hubEntry } from '../lib/hub.js';
import { cpuSecondsOf } from '../lib/processes.js';
import { benchInteger, benchNumber, benchRounds } from '../lib/settings.js';

/**
 * BENCH_DRS_OBJECTS seeds fewer objects for a quick run (a hundredth of them are bundles, hence at least
 * 100). At most 100,000: the baseline server parses all their bodies from one JSON file, and a million
 * would come near V8's longest string (512 MiB).
 */
const OBJECTS = benchInteger('BENCH_DRS_OBJECTS', 10_000, 100, 100_000);
const BUNDLES = Math.floor(OBJECTS / 100);
const CONNECTION_COUNTS = [16, 64] as const;
const READ_TARGET = 0.5;
const P99_TARGET_MS = 10;
const BULK_IDS = 1000;
const BULK_REQUESTS = 20;
/**
 * BENCH_UPLOAD_MIB shrinks the upload for a quick run; the target is set for the full 1 GiB. Up to 16 GiB,
 * written twice to local disk (the plain write, then the hub's blob).
 */
const UPLOAD_BYTES = benchInteger('BENCH_UPLOAD_MIB', 1024, 1, 16_384) * 1024 * 1024;
const CHUNK_BYTES = 16 * 1024 * 1024;
/** The same bounds as every bench's BENCH_WARMUP_SECONDS (bench/lib/settings.ts). */
const WARMUP_SECONDS = benchNumber('BENCH_WARMUP_SECONDS', 3, 0, 120, 'seconds');
/** A round under a second measures start-up more than throughput. */
const ROUND_SECONDS = benchNumber('BENCH_ROUND_SECONDS', 10, 1, 120, 'seconds');
const ROUNDS = benchRounds(3);

const SERVICES = {
  MONGO_URL: process.env.BENCH_MONGO_URL ?? 'mongodb://127.0.0.1:27017',
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/runtime_hub',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
}

interface LoadFigures {
  requestsPerSecond: number;
  /** Microseconds of the server process's CPU per answered request, when its CPU time could be read. */
  serverCpuMicros?: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
}

const fmt = (value: number, digits = 1): string => value.toFixed(digits);
const mib = (bytes: number): number => bytes / (1024 * 1024);

function taskset(args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('taskset', args, { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** With two or more CPUs, servers get the last one to themselves and the load generator the others. */
const SERVER_CPU = availableParallelism() >= 2 ? availableParallelism() - 1 : undefined;

async function pin(pid: number, cpuList: string): Promise<boolean> {
  return taskset(['--all-tasks', '--pid', '--cpu-list', cpuList, String(pid)]);
}

async function backgroundLoad(): Promise<number> {
  const totals = () =>
    cpus().reduce(
      (sum, cpu) => {
        const all = Object.values(cpu.times).reduce((a, b) => a + b, 0);
        return { busy: sum.busy + all - cpu.times.idle, all: sum.all + all };
      },
      { busy: 0, all: 0 },
    );
  const before = totals();
  await sleep(1000);
  const after = totals();
  return (after.busy - before.busy) / Math.max(after.all - before.all, 1);
}

/** The hub as `bench/lib/hub.ts` starts it (the build unless BENCH_HUB_ENTRY=src; BENCH_HUB_NODE_FLAGS). */
async function startHub(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  // Its blob directory's parent exists from the start, and keeps a developer's .env out of the process.
  const entry = hubEntry(dirname(env.BLOB_DIR ?? join(tmpdir(), 'store')));
  const child = spawn(process.execPath, entry.args, {
    cwd: entry.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = collect(child);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/health`, 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`the hub did not start: ${output.stderr()}${output.stdout()}`, { cause: error });
  }
  return { url, child };
}

async function startBaseline(bodiesFile: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', 'bench/drs/baseline-server.ts'],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', BODIES_FILE: bodiesFile, PORT: String(port) },
      stdio: 'pipe',
    },
  );
  const output = collect(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!output.stdout().includes('listening') && Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the baseline server exited: ${output.stderr()}`);
    }
    await sleep(100);
  }
  return { url, child };
}

async function stop(server: Server | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) {
    return;
  }
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  await exited(server.child);
  clearTimeout(timer);
}

function seedDocs(): ObjectDoc[] {
  const now = new Date().toISOString();
  const blobs: ObjectDoc[] = Array.from({ length: OBJECTS - BUNDLES }, (_, i) => {
    const sha256 = randomBytes(32).toString('hex');
    return {
      id: mintId('sys0'),
      name: `file-${i}.jsonl.gz`,
      description: 'Seeded for the DRS benchmark',
      mime_type: 'application/gzip',
      size: 1000 + i,
      created_time: now,
      updated_time: now,
      version: 1,
      checksums: [
        { type: 'sha-256', checksum: sha256 },
        { type: 'md5', checksum: randomBytes(16).toString('hex') },
      ],
      access_methods: [],
      child_ids: [],
      depth: 0,
      is_bundle: false,
      aliases: [],
      types: ['test'],
      controlled: false,
      readers: [],
      mgr_site: 'runtime-hub',
      created_by: 'bench',
      blob: { key: sha256 },
    };
  });
  const bundles: ObjectDoc[] = Array.from({ length: BUNDLES }, (_, i) => {
    const members = blobs.slice(i * 10, i * 10 + 10);
    return {
      id: mintId('sys0'),
      name: `bundle-${i}`,
      size: members.reduce((sum, m) => sum + m.size, 0),
      created_time: now,
      updated_time: now,
      version: 1,
      checksums: [{ type: 'md5', checksum: randomBytes(16).toString('hex') }],
      access_methods: [],
      contents: members.map((m) => ({ name: m.name ?? m.id, id: m.id })),
      child_ids: members.map((m) => m.id),
      depth: 1,
      is_bundle: true,
      aliases: [],
      types: [],
      controlled: false,
      readers: [],
      mgr_site: 'runtime-hub',
      created_by: 'bench',
    };
  });
  return [...blobs, ...bundles];
}

/**
 * Fills the hub's object cache (it loads objects only as they are asked for) by asking for every object
 * once, 16 at a time, and keeps each answer's bytes for the baseline to answer with.
 */
async function warmAndCollect(hub: Server, ids: readonly string[]): Promise<Record<string, string>> {
  const bodies: Record<string, string> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const res = await fetch(`${hub.url}/ga4gh/drs/v1/objects/${id}`);
      const body = await res.text();
      if (res.status !== 200) {
        throw new Error(`GET ${id} answered ${res.status}: ${body.slice(0, 200)}`);
      }
      bodies[id] = body;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return bodies;
}

/** The same bulk request against a hub with the cache turned off: what the cache saves. */
async function uncachedBulk(env: Record<string, string>, ids: readonly string[]): Promise<number> {
  const uncached = await startHub({ ...env, DRS_CACHE_TTL_MS: '0' });
  const output = collect(uncached.child);
  try {
    const body = { bulk_object_ids: ids.slice(0, BULK_IDS) };
    await postJson(`${uncached.url}/ga4gh/drs/v1/objects`, { bulk_object_ids: ids.slice(-1) });
    const started = performance.now();
    const res = await postJson(`${uncached.url}/ga4gh/drs/v1/objects`, body);
    if (res.status !== 200) {
      throw new Error(`uncached bulk request failed: ${res.status}: ${output.stdout()}${output.stderr()}`);
    }
    return performance.now() - started;
  } finally {
    await stop(uncached);
  }
}

async function load(
  url: string,
  ids: readonly string[],
  seconds: number,
  connections: number,
  pid?: number,
): Promise<LoadFigures> {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') {
    throw new Error('benchmarks only target loopback');
  }
  const cpuBefore = await cpuSecondsOf(pid);
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 60,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({
          ...request,
          path: `/ga4gh/drs/v1/objects/${ids[Math.floor(Math.random() * ids.length)]}`,
        }),
      },
    ],
  });
  const cpuAfter = await cpuSecondsOf(pid);
  return {
    requestsPerSecond: result.requests.total / result.duration,
    ...(cpuBefore !== undefined && cpuAfter !== undefined && result.requests.total > 0
      ? { serverCpuMicros: ((cpuAfter - cpuBefore) * 1e6) / result.requests.total }
      : {}),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * The hub and the baseline in alternating rounds (A B, B A, …) at one connection count, so drift on a
 * shared machine weighs on both alike.
 */
async function alternate(
  hub: Server,
  baseline: Server,
  ids: readonly string[],
  connections: number,
): Promise<{ hub: LoadFigures; baseline: LoadFigures }> {
  const round = (server: Server, seconds: number): Promise<LoadFigures> =>
    load(`${server.url}/`, ids, seconds, connections, server.child.pid);
  await round(hub, WARMUP_SECONDS);
  await round(baseline, WARMUP_SECONDS);
  const hubRounds: LoadFigures[] = [];
  const baselineRounds: LoadFigures[] = [];
  for (let index = 0; index < ROUNDS; index++) {
    if (index % 2 === 0) {
      hubRounds.push(await round(hub, ROUND_SECONDS));
      baselineRounds.push(await round(baseline, ROUND_SECONDS));
    } else {
      baselineRounds.push(await round(baseline, ROUND_SECONDS));
      hubRounds.push(await round(hub, ROUND_SECONDS));
    }
  }
  return { hub: merge(hubRounds), baseline: merge(baselineRounds) };
}

async function benchUpload(hub: Server, dir: string): Promise<{ writeSpeed: number; uploadSpeed: number }> {
  const token = await fetchToken(hub.url);
  const source = join(dir, 'source.bin');
  const writeSpeed = await plainWrite(source, randomBytes(CHUNK_BYTES), UPLOAD_BYTES);
  const sent = await upload(hub.url, token, source);
  if (sent.status !== 201) {
    throw new Error(`the upload failed: ${sent.status} ${sent.body}`);
  }
  await rm(source, { force: true });
  return { writeSpeed, uploadSpeed: sent.speed };
}

function merge(rounds: LoadFigures[]): LoadFigures {
  const requests = rounds.reduce((sum, r) => sum + r.requests, 0);
  const p50s = rounds.map((r) => r.p50).sort((a, b) => a - b);
  const cpu = rounds.map((r) => r.serverCpuMicros);
  return {
    requestsPerSecond: rounds.reduce((sum, r) => sum + r.requestsPerSecond, 0) / rounds.length,
    // Weighted by requests: the CPU all rounds took over all they answered.
    ...(cpu.every((micros) => micros !== undefined)
      ? {
          serverCpuMicros:
            rounds.reduce((sum, r) => sum + (r.serverCpuMicros ?? 0) * r.requests, 0) / Math.max(requests, 1),
        }
      : {}),
    p50: p50s[Math.floor(p50s.length / 2)] ?? 0,
    p99: Math.max(...rounds.map((r) => r.p99)),
    requests,
    failures: rounds.reduce((sum, r) => sum + r.failures, 0),
  };
}

interface BulkAnswer {
  summary: { unresolved: number };
}

async function postJson(
  url: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; json: BulkAnswer }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as BulkAnswer };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function benchBulk(hub: Server, ids: readonly string[]): Promise<{ first: number; times: number[] }> {
  const pick = (): string[] =>
    Array.from({ length: BULK_IDS }, () => ids[Math.floor(Math.random() * ids.length)]!);
  const once = async (): Promise<number> => {
    const body = { bulk_object_ids: pick() };
    const started = performance.now();
    const res = await postJson(`${hub.url}/ga4gh/drs/v1/objects`, body);
    const elapsed = performance.now() - started;
    if (res.status !== 200 || res.json.summary.unresolved !== 0) {
      throw new Error(`bulk request failed: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
    }
    return elapsed;
  };
  const first = await once();
  const times: number[] = [];
  for (let i = 0; i < BULK_REQUESTS; i++) {
    times.push(await once());
  }
  return { first, times: times.sort((a, b) => a - b) };
}

/**
 * Writes `bytes` of `chunk` repeated to `path`, the last one cut to fit, and returns MiB/s: what the disk
 * takes without the hub.
 */
async function plainWrite(path: string, chunk: Buffer, bytes: number): Promise<number> {
  const started = performance.now();
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += chunk.length) {
    if (!out.write(chunk.subarray(0, bytes - written))) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.once('close', resolve);
    out.end();
  });
  return mib(bytes) / ((performance.now() - started) / 1000);
}

/** Streams `path` as the `file` part of a multipart upload and returns MiB/s and the answer. */
async function upload(
  hubUrl: string,
  token: string,
  path: string,
): Promise<{ speed: number; status: number; body: string }> {
  const size = (await stat(path)).size;
  const boundary = `----bench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const target = new URL('/objects:upload', hubUrl);
  const started = performance.now();
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(
      target,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + size + tail.length,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.write(head);
    const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
    file.on('error', reject);
    file.on('end', () => req.end(tail));
    file.pipe(req, { end: false });
  });
  return { speed: mib(size) / ((performance.now() - started) / 1000), status, body };
}

async function cleanup(env: Record<string, string>, blobDir: string): Promise<void> {
  const mongo = new MongoClient(SERVICES.MONGO_URL);
  await mongo
    .connect()
    .then(() => mongo.db(env.MONGO_DB).dropDatabase())
    .catch(() => undefined);
  await mongo.close();
  const pool = new pg.Pool({ connectionString: SERVICES.DATABASE_URL });
  await pool.query(`DROP SCHEMA IF EXISTS "${env.PG_SCHEMA}" CASCADE`).catch(() => undefined);
  await pool.end();
  const redis = new Redis(SERVICES.REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${env.REDIS_PREFIX}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) {
      await redis.del(...keys);
    }
  } while (cursor !== '0');
  redis.disconnect();
  await rm(blobDir, { recursive: true, force: true });
}

function verdict(ok: boolean): string {
  return ok ? 'meets target' : 'MISSES target';
}

async function main(): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  const blobDir = await mkdtemp(join(tmpdir(), 'rh-bench-drs-'));
  const env: Record<string, string> = {
    ...SERVICES,
    NODE_ENV: 'production',
    // The process that serves DRS in a deployment; the orchestrator's sensors and workers run elsewhere.
    APP_ROLE: 'api',
    JWT_SECRET: randomBytes(32).toString('hex'),
    URL_SIGNING_KEY: randomBytes(32).toString('hex'),
    MONGO_DB: `rh_bench_drs_${tag}`,
    PG_SCHEMA: `bench_drs_${tag}`,
    REDIS_PREFIX: `bench:drs:${tag}`,
    BLOB_DIR: join(blobDir, 'store'),
    LOG_LEVEL: 'warn',
    ...BENCH_ADMIN_ENV,
    UPLOAD_LIMIT_BYTES: String(2 * UPLOAD_BYTES),
  };
  let hub: Server | undefined;
  let baseline: Server | undefined;
  try {
    const busy = await backgroundLoad();
    console.log(
      `DRS benchmark: ${availableParallelism()} CPUs, other work keeping ${Math.round(busy * 100)}% of them busy before it starts${busy > 0.25 ? ' (figures taken next to that much other work are not comparable)' : ''}`,
    );
    if (
      SERVER_CPU !== undefined &&
      (await pin(process.pid, SERVER_CPU === 1 ? '0' : `0-${SERVER_CPU - 1}`))
    ) {
      console.log(`servers pinned to CPU ${SERVER_CPU}, the load generator to the others (FerretDB floats)`);
    }

    // The registry exists before the hub starts, as when an api process (re)starts in production, keyed
    // by `_id` as the hub stores what it registers.
    const mongo = new MongoClient(SERVICES.MONGO_URL);
    await mongo.connect();
    const docs = seedDocs();
    const seeded = performance.now();
    for (let i = 0; i < docs.length; i += 1000) {
      await mongo
        .db(env.MONGO_DB)
        .collection<ObjectDoc & { _id: string }>('objects')
        .insertMany(docs.slice(i, i + 1000).map((doc) => ({ ...doc, _id: doc.id })));
    }
    await mongo.close();
    console.log(
      `seeded ${docs.length} objects (${BUNDLES} of them bundles) in ${fmt((performance.now() - seeded) / 1000)} s`,
    );
    const ids = docs.map((d) => d.id);

    hub = await startHub(env);
    if (SERVER_CPU !== undefined) {
      await pin(hub.child.pid!, String(SERVER_CPU));
    }
    const warming = performance.now();
    const bodies = await warmAndCollect(hub, ids);
    const warmedMs = performance.now() - warming;
    const bodiesFile = join(blobDir, 'drs-objects.json');
    await writeFile(bodiesFile, JSON.stringify(bodies));
    baseline = await startBaseline(bodiesFile);
    if (SERVER_CPU !== undefined) {
      await pin(baseline.child.pid!, String(SERVER_CPU));
    }

    const bulk = await benchBulk(hub, ids);
    const reads = [];
    for (const connections of CONNECTION_COUNTS) {
      reads.push({ connections, ...(await alternate(hub, baseline, ids, connections)) });
    }
    await stop(baseline);
    baseline = undefined;

    // Uploads are measured on all CPUs, like the plain write they are compared with: the hub hashes on a
    // worker thread while its main thread receives and writes.
    if (SERVER_CPU !== undefined) {
      const all = `0-${SERVER_CPU}`;
      await pin(process.pid, all);
      await pin(hub.child.pid!, all);
    }
    const uploaded = await benchUpload(hub, blobDir);
    if (SERVER_CPU !== undefined) {
      await pin(process.pid, SERVER_CPU === 1 ? '0' : `0-${SERVER_CPU - 1}`);
    }
    await stop(hub);
    hub = undefined;
    // For scale only: FerretDB v1 may lose the cursor of so large an \$in (CursorNotFound), which is not
    // what this benchmark measures.
    const uncached = await uncachedBulk(env, ids).catch((error: unknown) =>
      error instanceof Error ? error.message.slice(0, 120) : String(error),
    );

    console.log(
      `\nGET /ga4gh/drs/v1/objects/{random id}: each connection count ${WARMUP_SECONDS} s of warm-up per server, then ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s`,
    );
    console.log(
      `  the hub's cache was filled first, on demand, by asking for each of the ${ids.length} ids once (16 at a time): ${fmt(warmedMs / 1000)} s`,
    );
    const row = (label: string, f: LoadFigures) =>
      `  ${label.padEnd(36)} ${fmt(f.requestsPerSecond, 0).padStart(7)} req/s   p50 ${fmt(f.p50).padStart(6)} ms   p99 ${fmt(f.p99).padStart(7)} ms   ${f.serverCpuMicros === undefined ? 'server CPU n/a' : `${fmt(f.serverCpuMicros).padStart(6)} µs server CPU/req`}   ${f.requests} requests, ${f.failures} failed`;
    for (const read of reads) {
      console.log(`  ${read.connections} connections`);
      console.log(row('baseline (node:http, same JSON)', read.baseline));
      console.log(row('hub', read.hub));
      const ratio =
        read.baseline.requests > 0 ? read.hub.requestsPerSecond / read.baseline.requestsPerSecond : 0;
      console.log(
        `    ratio hub/baseline: ${fmt(ratio, 2)}x (target >= ${READ_TARGET}x: ${verdict(ratio >= READ_TARGET)})`,
      );
      if (read.hub.serverCpuMicros !== undefined && read.baseline.serverCpuMicros !== undefined) {
        // The load generator may set the baseline's pace (it has one CPU to itself and can saturate it),
        // so the same comparison per CPU-second of each server is printed beside it.
        console.log(
          `    per server CPU-second, hub/baseline: ${fmt(read.baseline.serverCpuMicros / read.hub.serverCpuMicros, 2)}x`,
        );
      }
      const p99 = `    hub p99: ${fmt(read.hub.p99)} ms`;
      console.log(
        read.connections === 16
          ? `${p99} (target <= ${P99_TARGET_MS} ms: ${verdict(read.hub.p99 <= P99_TARGET_MS)})`
          : `${p99} (for information)`,
      );
      if (read.hub.failures > 0 || read.baseline.failures > 0) {
        console.log('    note: failed requests (errors, timeouts or non-2xx) are not counted as throughput');
      }
    }

    console.log(
      `\nbulk POST /ga4gh/drs/v1/objects with ${BULK_IDS} random ids, ${BULK_REQUESTS + 1} requests`,
    );
    const slowest = Math.max(bulk.first, bulk.times.at(-1) ?? 0);
    console.log(
      `  first ${fmt(bulk.first)} ms, then median ${fmt(percentile(bulk.times, 50))} ms, p95 ${fmt(percentile(bulk.times, 95))} ms; slowest ${fmt(slowest)} ms (target < 100 ms: ${verdict(slowest < 100)})`,
    );
    console.log(
      typeof uncached === 'number'
        ? `  for scale: with the cache off (DRS_CACHE_TTL_MS=0) the same request took ${fmt(uncached, 0)} ms: one $in query, which FerretDB v1 answers by scanning the collection`
        : `  for scale: with the cache off (DRS_CACHE_TTL_MS=0) the request failed: ${uncached}`,
    );

    console.log(`\nupload of a ${mib(UPLOAD_BYTES)} MiB file through POST /objects:upload`);
    console.log(`  plain disk write (same file system): ${fmt(uploaded.writeSpeed, 0)} MiB/s`);
    console.log(`  upload (stream, sha-256 + md5, store): ${fmt(uploaded.uploadSpeed, 0)} MiB/s`);
    const uploadRatio = uploaded.uploadSpeed / uploaded.writeSpeed;
    console.log(
      `  ratio upload/plain write: ${fmt(uploadRatio, 2)}x (target >= 0.7x: ${verdict(uploadRatio >= 0.7)})`,
    );
  } finally {
    await stop(hub);
    await stop(baseline);
    await cleanup(env, blobDir);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
