/**
 * Metadata benchmark, one run:
 *   paging — GET /metadata/biosample_set?max_page_size=100 followed page token by page token through
 *   100k documents, against a raw driver cursor reading the same documents in the same order with the
 *   same batch size. Target: the hub reaches at least 0.5× the cursor's documents per second.
 *
 * The hub runs as a real process on a loopback port, with its own MONGO_DB, PG_SCHEMA and REDIS_PREFIX
 * (dropped at the end) and LOG_LEVEL=warn. BENCH_DOCS changes the number of documents.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg, cpus } from 'node:os';

import { MongoClient } from 'mongodb';
import pg from 'pg';
import { Redis } from 'ioredis';

import { collect, exited, freePort, ROOT, spawnHub, waitForHttp } from '../../test/support/process.js';
import { TEST_ENV } from '../../test/support/env.js';
import { biosample, nmdcId } from '../../test/support/metadata.js';

const DOCS = Number(process.env.BENCH_DOCS ?? 100_000);
const PAGE = 100;
const TARGET = 0.5;
const SEED_BATCH = 1000;

interface Measurement {
  readonly label: string;
  readonly docs: number;
  readonly seconds: number;
  readonly docsPerSecond: number;
}

function measurement(label: string, docs: number, startedAt: bigint): Measurement {
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  return { label, docs, seconds, docsPerSecond: docs / seconds };
}

async function seed(client: MongoClient, database: string): Promise<void> {
  const collection = client.db(database).collection<{ _id: string }>('biosample_set');
  for (let start = 0; start < DOCS; start += SEED_BATCH) {
    const batch = Array.from({ length: Math.min(SEED_BATCH, DOCS - start) }, (_, i) => {
      const doc = biosample(start + i + 1, nmdcId('sty', 1));
      // Stored the way the hub stores metadata: _id is the id.
      return { ...doc, _id: doc.id as string };
    });
    await collection.insertMany(batch, { ordered: false });
  }
}

/** The same documents in the same order straight from the driver; `batchSize` undefined is the driver's default. */
async function rawCursor(client: MongoClient, database: string, batchSize?: number): Promise<Measurement> {
  const started = process.hrtime.bigint();
  let docs = 0;
  const find = client
    .db(database)
    .collection('biosample_set')
    .find({}, { projection: { _id: 0 } })
    .sort({ id: 1 });
  for await (const doc of batchSize ? find.batchSize(batchSize) : find) {
    if (typeof doc.id === 'string') {
      docs++;
    }
  }
  return measurement(`raw driver cursor (sort id, batch ${batchSize ?? 'default'})`, docs, started);
}

async function hubPaging(url: string): Promise<Measurement> {
  const started = process.hrtime.bigint();
  const seen = new Set<string>();
  let token: string | undefined;
  let previous = '';
  do {
    const query = new URLSearchParams({
      max_page_size: String(PAGE),
      ...(token ? { page_token: token } : {}),
    });
    const res = await fetch(`${url}/metadata/biosample_set?${query.toString()}`);
    if (res.status !== 200) {
      throw new Error(`page after ${seen.size} documents: HTTP ${res.status} ${await res.text()}`);
    }
    const body = (await res.json()) as { resources: Array<{ id: string }>; next_page_token?: string };
    for (const doc of body.resources) {
      if (doc.id <= previous || seen.has(doc.id)) {
        throw new Error(`paging returned ${doc.id} out of order or twice`);
      }
      seen.add(doc.id);
      previous = doc.id;
    }
    token = body.next_page_token;
  } while (token);
  if (seen.size !== DOCS) {
    throw new Error(`paging returned ${seen.size} documents, expected ${DOCS}`);
  }
  return measurement(`hub GET /metadata/biosample_set?max_page_size=${PAGE}`, seen.size, started);
}

async function dropIsolated(client: MongoClient, env: Record<string, string>): Promise<void> {
  await client
    .db(env.MONGO_DB)
    .dropDatabase()
    .catch(() => undefined);
  const pool = new pg.Client({ connectionString: env.DATABASE_URL });
  await pool.connect();
  await pool.query(`DROP SCHEMA IF EXISTS "${env.PG_SCHEMA}" CASCADE`).catch(() => undefined);
  await pool.end();
  const redis = new Redis(env.REDIS_URL ?? TEST_ENV.REDIS_URL);
  const keys = await redis.keys(`${env.REDIS_PREFIX}:*`);
  if (keys.length > 0) {
    await redis.del(...keys);
  }
  redis.disconnect();
}

async function main(): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const port = await freePort();
  const env: Record<string, string> = {
    ...TEST_ENV,
    NODE_ENV: 'production',
    APP_ROLE: 'api',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    MONGO_DB: `rh_bench_meta_${id}`,
    PG_SCHEMA: `bench_meta_${id}`,
    REDIS_PREFIX: `bench:meta:${id}`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    URL_SIGNING_KEY: randomBytes(32).toString('hex'),
  };
  const client = new MongoClient(env.MONGO_URL ?? TEST_ENV.MONGO_URL);
  await client.connect();
  const hub = spawnHub('src/main.ts', [], env);
  const output = collect(hub);
  try {
    console.log(
      `bench metadata: ${DOCS} biosamples, pages of ${PAGE}; ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(2)}`,
    );
    const seedStarted = process.hrtime.bigint();
    await seed(client, env.MONGO_DB ?? '');
    console.log(`seeded in ${(Number(process.hrtime.bigint() - seedStarted) / 1e9).toFixed(1)} s`);
    await waitForHttp(`http://127.0.0.1:${port}/health`, 60_000);

    const raw = await rawCursor(client, env.MONGO_DB ?? '', PAGE);
    const api = await hubPaging(`http://127.0.0.1:${port}`);
    const rawDefault = await rawCursor(client, env.MONGO_DB ?? '');
    const ratio = api.docsPerSecond / raw.docsPerSecond;
    for (const m of [raw, rawDefault, api]) {
      console.log(
        `${m.label.padEnd(58)} ${String(m.docs).padStart(7)} docs  ${m.seconds.toFixed(2).padStart(7)} s  ${Math.round(m.docsPerSecond).toString().padStart(7)} docs/s`,
      );
    }
    console.log(
      `hub / raw cursor: ${ratio.toFixed(2)}× (target ≥ ${TARGET}×) — ${ratio >= TARGET ? 'PASS' : 'FAIL'}`,
    );

    await mkdir(`${ROOT}bench/results`, { recursive: true });
    const path = `${ROOT}bench/results/metadata-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    await writeFile(
      path,
      `${JSON.stringify({ name: 'metadata', date: new Date().toISOString(), node: process.version, docs: DOCS, page: PAGE, raw, rawDefault, api, ratio, target: TARGET }, null, 2)}\n`,
    );
    console.log(`results: ${path}`);
    if (ratio < TARGET) {
      process.exitCode = 1;
    }
  } catch (error) {
    console.error(output.stderr());
    throw error;
  } finally {
    hub.kill('SIGTERM');
    await exited(hub);
    await dropIsolated(client, env);
    await client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
