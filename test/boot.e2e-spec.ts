import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MongoClient, type IndexDescription } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { ADMIN, ADMIN_ENV } from './support/auth.js';
import { isolatedEnv, startTestHub } from './support/harness.js';
import { collect, exited, freePort, ROOT, spawnHub, waitForHttp } from './support/process.js';

/** A port of its own for this file's FerretDB (the spare range of the consistency work). */
const FERRETDB_PORT = 31300 + Math.floor(Math.random() * 50);

async function waitForPort(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000 });
    try {
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      await client.close();
    }
  }
}

/** Compares what the database holds with every index the hub declares. */
async function missingIndexes(mongo: MongoService): Promise<string[]> {
  const missing: string[] = [];
  for (const [collection, indexes] of mongo.declaredIndexes()) {
    const present = new Set(
      (await mongo.db.collection(collection).listIndexes().toArray()).map((index: { name?: unknown }) =>
        String(index.name),
      ),
    );
    for (const index of indexes) {
      if (!present.has(String(index.name))) {
        missing.push(`${collection}.${String(index.name)}`);
      }
    }
  }
  return missing;
}

describe('boot', () => {
  it('brings up an api and two workers started together on a fresh database: one admin, every index', async () => {
    const env = { ...isolatedEnv(), ...ADMIN_ENV, LOG_LEVEL: 'info' };
    const blobDir = await mkdtemp(join(tmpdir(), 'rh-boot-'));
    const roles = ['api', 'worker', 'worker'] as const;
    const ports = await Promise.all(roles.map(() => freePort()));
    const children: ChildProcess[] = roles.map((role, i) =>
      spawnHub('src/main.ts', [], { ...env, APP_ROLE: role, PORT: String(ports[i]), BLOB_DIR: blobDir }),
    );
    const outputs = children.map((child) => collect(child));
    try {
      await Promise.all(
        ports.map(async (port, i) => {
          try {
            await waitForHttp(`http://127.0.0.1:${port}/health`, 120_000);
          } catch (error) {
            throw new Error(
              `${roles[i]} did not become healthy:\n${outputs[i]!.stderr()}\n${outputs[i]!.stdout().slice(-3000)}`,
              {
                cause: error,
              },
            );
          }
        }),
      );
      for (const [i, port] of ports.entries()) {
        const health = await fetch(`http://127.0.0.1:${port}/health`);
        expect(health.status, `${roles[i]}: ${await health.text()}`).toBe(200);
        expect(children[i]!.exitCode).toBeNull();
      }
      const hub = await startTestHub({ env, keepData: true });
      try {
        const mongo = hub.app.get(MongoService);
        expect(await mongo.db.collection('users').countDocuments({ username: ADMIN.username })).toBe(1);
        expect(await missingIndexes(mongo)).toEqual([]);
        expect(mongo.declaredIndexes().size).toBeGreaterThan(10);
      } finally {
        await hub.close();
      }
    } finally {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await exited(child);
        }
      }
      await rm(blobDir, { recursive: true, force: true });
    }
  }, 180_000);

  describe('on a FerretDB of its own', () => {
    let ferret: ChildProcess;
    let dir: string;
    let url: string;
    const logFile = (): string => join(dir, 'ferretdb.log');

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rh-ferretdb-'));
      await mkdir(join(dir, 'sqlite'));
      await mkdir(join(dir, 'state'));
      url = `mongodb://127.0.0.1:${FERRETDB_PORT}`;
      const log = openSync(logFile(), 'a');
      ferret = spawn(
        join(ROOT, '.tools/bin/ferretdb'),
        [
          '--handler=sqlite',
          `--sqlite-url=file:${join(dir, 'sqlite')}/`,
          `--listen-addr=127.0.0.1:${FERRETDB_PORT}`,
          `--debug-addr=127.0.0.1:${FERRETDB_PORT + 50}`,
          `--state-dir=${join(dir, 'state')}`,
          '--telemetry=disable',
          '--log-level=warn',
        ],
        { stdio: ['ignore', log, log] },
      );
      closeSync(log);
      await waitForPort(url, 30_000);
    }, 60_000);

    afterAll(async () => {
      if (ferret && ferret.exitCode === null) {
        ferret.kill('SIGTERM');
        await exited(ferret);
      }
      await rm(dir, { recursive: true, force: true });
    });

    const panics = async (): Promise<string[]> =>
      (await readFile(logFile(), 'utf8').catch(() => '')).split('\n').filter((line) => /panic/i.test(line));

    it('restarts a hub on an existing database without a panic in FerretDB’s log', async () => {
      // The log does show panics: re-sending two existing indexes makes one.
      const probe = new MongoClient(url);
      try {
        const collection = probe.db('panic_probe').collection('c');
        const indexes: IndexDescription[] = [
          { key: { a: 1 }, name: 'a' },
          { key: { b: 1 }, name: 'b' },
        ];
        await collection.createIndexes(indexes);
        await collection.createIndexes(indexes).catch(() => undefined);
        await expect.poll(panics, { timeout: 10_000 }).not.toEqual([]);
        await probe.db('panic_probe').dropDatabase();
      } finally {
        await probe.close();
      }
      const before = (await panics()).length;

      const env: Record<string, string> = { ...isolatedEnv(), ...ADMIN_ENV, MONGO_URL: url };
      for (let start = 0; start < 3; start++) {
        const hub = await startTestHub({ env, keepData: start < 2 });
        expect(await missingIndexes(hub.app.get(MongoService))).toEqual([]);
        await hub.close();
      }
      expect((await panics()).slice(before)).toEqual([]);
    }, 120_000);

    it('names the duplicate users of a database an older version wedged, and how to fix it', async () => {
      const env: Record<string, string> = { ...isolatedEnv(), ...ADMIN_ENV, MONGO_URL: url };
      const client = new MongoClient(url);
      try {
        const users = client.db(env.MONGO_DB).collection('users');
        const user = {
          username: 'twice',
          password_hash: 'x',
          is_admin: true,
          site_admin: [],
          disabled: false,
        };
        await users.insertMany([{ ...user }, { ...user }]);
        const failed = await startTestHub({ env }).then(
          async (hub) => {
            await hub.close();
            return undefined;
          },
          (error: unknown) => error,
        );
        expect(failed).toBeInstanceOf(Error);
        const message = (failed as Error).message;
        expect(message).toContain('users');
        expect(message).toContain('username_unique');
        expect(message).toContain('{"username":"twice"} is held by 2 documents');
        expect(message).toMatch(/ObjectId\("[0-9a-f]{24}"\)/);
        expect(message).toContain('delete the others');
      } finally {
        await client.db(env.MONGO_DB).dropDatabase();
        await client.close();
      }
    }, 60_000);
  });
});
