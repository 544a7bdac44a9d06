import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/app-config.js';
import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { OpenCursors } from '../src/infra/mongo/open-cursors.js';
import { MetadataRepository } from '../src/metadata/metadata.repository.js';
import { MetadataSchemaRepository } from '../src/metadata/schema/metadata-schema.repository.js';
import { isolatedEnv } from './support/harness.js';
import { exited, freePort, ROOT } from './support/process.js';

const WRITERS = 64;
const ROUNDS = 5;
const CURSORS = 16;

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/**
 * What a busy hub process does at worst: CURSORS cursors left open between pages, then WRITERS updates at
 * once on WRITERS connections, ROUNDS times. Returns how many updates were answered within `withinMs`.
 */
async function updatesUnderOpenCursors(url: string, withinMs: number): Promise<number> {
  const client = new MongoClient(url, { maxPoolSize: WRITERS, serverSelectionTimeoutMS: 5000 });
  let answered = 0;
  try {
    const docs = client
      .db(`pool_${Math.random().toString(36).slice(2, 8)}`)
      .collection<{ _id: string; n: number }>('docs');
    await docs.insertMany(Array.from({ length: WRITERS }, (_, i) => ({ _id: `d${i}`, n: 0 })));
    for (let i = 0; i < CURSORS; i++) {
      await docs.find({}, { batchSize: 2 }).next();
    }
    const updates = Promise.all(
      Array.from({ length: WRITERS }, async (_, writer) => {
        for (let round = 1; round <= ROUNDS; round++) {
          await docs.replaceOne({ _id: `d${(writer + round) % WRITERS}` }, { n: round });
          answered++;
        }
      }),
    );
    await Promise.race([updates, new Promise((resolve) => setTimeout(resolve, withinMs))]);
    return answered;
  } finally {
    await client.close(true);
  }
}

/**
 * FerretDB v1 on PostgreSQL holds one pooled connection per open cursor, and an update holds one while it
 * waits for a second; when they hold the whole pool it stops answering for good. scripts/setup.sh sizes
 * the pool above what the hub processes can hold (MONGO_POOL_MAX + METADATA_OPEN_CURSORS_MAX each).
 */
describe("set-up's PostgreSQL-backed FerretDB", () => {
  let dataDir: string;
  let env: Record<string, string>;
  let mongoUrl: string;
  let undersized: ChildProcess | undefined;

  /** The set-up's FerretDB; stopped, it gives its pooled connections back to the cluster. */
  const stopSizedFerretDb = async (): Promise<void> => {
    const pid = Number(await readFile(join(dataDir, 'ferretdb/ferretdb.pid'), 'utf8').catch(() => ''));
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
      while ((await bash(`kill -0 ${pid}`, {})).code === 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rh-ferretdb-pg-'));
    // The cluster runs as the postgres user, which must reach its directory inside this one.
    await chmod(dataDir, 0o755);
    const [pgPort, mongoPort, debugPort] = [await freePort(), await freePort(), await freePort()];
    mongoUrl = `mongodb://127.0.0.1:${mongoPort}`;
    env = {
      RUNTIME_HUB_DATA_DIR: dataDir,
      QUIET: '1',
      MONGO_URL: mongoUrl,
      FERRETDB_DEBUG_PORT: String(debugPort),
      FERRETDB_HANDLER: 'postgresql',
      FERRETDB_POSTGRESQL_URL: `postgres://postgres@127.0.0.1:${pgPort}/ferretdb`,
      FERRETDB_CLIENT_PROCESSES: '1',
      MONGO_POOL_MAX: String(WRITERS),
      METADATA_OPEN_CURSORS_MAX: String(CURSORS),
    };
    const setup = await bash('source scripts/setup.sh && ensure_ferretdb', env);
    expect(setup.code, setup.output).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (undersized && undersized.exitCode === null) {
      undersized.kill('SIGKILL');
      await exited(undersized);
    }
    await stopSizedFerretDb();
    await bash(
      `source scripts/setup.sh && pg_server_tool pg_ctl -D "$RUNTIME_HUB_DATA_DIR/ferretdb/postgresql/data" -m immediate stop`,
      env,
    );
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('answers every update of a process whose connections and open cursors all are busy', async () => {
    expect(await updatesUnderOpenCursors(mongoUrl, 60_000)).toBe(WRITERS * ROUNDS);
  }, 90_000);

  it('counts the documents of a metadata collection, which its table statistics do not yet', async () => {
    const config = loadConfig({ ...isolatedEnv(), MONGO_URL: mongoUrl });
    const mongo = new MongoService(config, pino({ level: 'silent' }));
    try {
      const metadata = new MetadataRepository(
        mongo,
        new MetadataSchemaRepository().load(),
        new OpenCursors(config),
      );
      await mongo.collection('study_set').insertMany([{ id: 'nmdc:sty-11-1' }, { id: 'nmdc:sty-11-2' }]);
      expect(await metadata.count('study_set')).toBe(2);
    } finally {
      await mongo.db.dropDatabase();
      await mongo.onApplicationShutdown();
    }
  });

  it('(control) stops answering once open cursors leave an update one connection', async () => {
    await stopSizedFerretDb();
    const port = await freePort();
    undersized = spawn(
      join(ROOT, '.tools/bin/ferretdb'),
      [
        '--handler=postgresql',
        `--postgresql-url=${env.FERRETDB_POSTGRESQL_URL}?pool_max_conns=${CURSORS + 1}`,
        `--listen-addr=127.0.0.1:${port}`,
        `--debug-addr=127.0.0.1:${await freePort()}`,
        `--state-dir=${dataDir}`,
        '--telemetry=disable',
        '--log-level=ERROR',
      ],
      { stdio: 'ignore' },
    );
    await bash(`source scripts/lib.sh && wait_for_port 127.0.0.1 ${port} FerretDB`, {});
    expect(await updatesUnderOpenCursors(`mongodb://127.0.0.1:${port}`, 5_000)).toBeLessThan(
      WRITERS * ROUNDS,
    );
  }, 60_000);
});
