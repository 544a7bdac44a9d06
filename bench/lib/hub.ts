import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import dotenv from 'dotenv';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';

import { loadConfig, type AppRole } from '../../src/config/app-config.js';
import { ROOT } from '../../test/support/process.js';
import { freePort, startNodeServer, TYPESCRIPT_LOADER, type ServerProcess } from './processes.js';

export interface HubOptions {
  /** `api` by default: the role that serves HTTP in production. */
  readonly role?: AppRole;
  /** Extra environment for the hub; wins over the benchmark defaults. */
  readonly env?: Record<string, string>;
}

export interface BenchHub extends ServerProcess {
  /** How the hub was started, for the report. */
  readonly entry: string;
  /** The MongoDB the hub uses, for baselines that must run against the same server and database. */
  readonly mongoUrl: string;
  readonly mongoDatabase: string;
}

/**
 * The stores the benchmark uses: the same ones the hub would (environment first, then .env, then the
 * built-in defaults), so a bench runs against whatever `scripts/setup.sh` brought up.
 */
export function storeUrls(): { mongo: string; postgres: string; redis: string } {
  const file = existsSync(join(ROOT, '.env')) ? dotenv.parse(readFileSync(join(ROOT, '.env'))) : {};
  const pick = (key: string): string | undefined => process.env[key] ?? file[key];
  const config = loadConfig({
    MONGO_URL: pick('MONGO_URL'),
    DATABASE_URL: pick('DATABASE_URL'),
    REDIS_URL: pick('REDIS_URL'),
  });
  return { mongo: config.mongo.url, postgres: config.postgres.url, redis: config.redis.url };
}

/**
 * The compiled build (`dist/`, what production runs) unless BENCH_HUB_ENTRY=src asks for the TypeScript
 * sources through SWC, which skips the build when iterating on a change. BENCH_HUB_NODE_FLAGS adds flags
 * to the hub's `node` (`--cpu-prof --cpu-prof-dir=/tmp/prof` profiles it; Node refuses those in
 * NODE_OPTIONS); the profile is written when the hub exits at the end of the benchmark.
 */
export function hubEntry(blobDir: string): { args: string[]; cwd: string; label: string } {
  const flags = (process.env.BENCH_HUB_NODE_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== '');
  if (process.env.BENCH_HUB_ENTRY === 'src') {
    return {
      args: [...flags, ...TYPESCRIPT_LOADER, 'src/main.ts'],
      cwd: ROOT,
      label: 'src/main.ts via SWC',
    };
  }
  const main = join(ROOT, 'dist/main.js');
  if (!existsSync(main)) {
    throw new Error('dist/main.js is missing: run "npm run build" first (scripts/bench.sh does)');
  }
  // Any directory but the repository's keeps a developer's .env out of the measured process.
  return { args: [...flags, main], cwd: blobDir, label: 'dist/main.js' };
}

/**
 * Starts the hub as a real production-mode process on a free loopback port, with its own Mongo database,
 * PostgreSQL schema, Redis prefix and blob directory, and warn-level logs. `stop()` ends the process and
 * removes everything it created.
 */
export async function startHub(options: HubOptions = {}): Promise<BenchHub> {
  const id = randomBytes(4).toString('hex');
  const stores = storeUrls();
  const names = { mongoDb: `rh_bench_${id}`, pgSchema: `bench_${id}`, redisPrefix: `bench:${id}` };
  const blobDir = await mkdtemp(join(tmpdir(), 'rh-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const entry = hubEntry(blobDir);
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    APP_ROLE: options.role ?? 'api',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_BASE_URL: url,
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    MONGO_URL: stores.mongo,
    MONGO_DB: names.mongoDb,
    DATABASE_URL: stores.postgres,
    PG_SCHEMA: names.pgSchema,
    REDIS_URL: stores.redis,
    REDIS_PREFIX: names.redisPrefix,
    BLOB_DIR: blobDir,
    JWT_SECRET: randomBytes(32).toString('hex'),
    URL_SIGNING_KEY: randomBytes(32).toString('hex'),
    ...options.env,
  };

  const cleanUp = async (): Promise<void> => {
    await Promise.allSettled([
      dropMongoDatabase(stores.mongo, names.mongoDb),
      dropPostgresSchema(stores.postgres, names.pgSchema),
      deleteRedisKeys(stores.redis, names.redisPrefix),
      rm(blobDir, { recursive: true, force: true }),
    ]);
  };

  let server: ServerProcess;
  try {
    server = await startNodeServer({
      args: entry.args,
      env,
      cwd: entry.cwd,
      url,
      readyPath: '/health',
      label: 'hub',
      startTimeoutMs: 60_000,
    });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return {
    url,
    pid: server.pid,
    entry: entry.label,
    mongoUrl: stores.mongo,
    mongoDatabase: names.mongoDb,
    output: () => server.output?.() ?? '',
    cpuSeconds: () => server.cpuSeconds(),
    async stop() {
      await server.stop();
      await cleanUp();
    },
  };
}

async function dropMongoDatabase(url: string, database: string): Promise<void> {
  const client = await MongoClient.connect(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}

async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) {
        await redis.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
