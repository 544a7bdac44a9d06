import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { passwordToken } from './support/auth.js';
import { isolatedEnv, startTestHub } from './support/harness.js';
import { collect, exited, freePort, spawnHub, waitForHttp } from './support/process.js';

describe('the hub as a process', () => {
  const env = isolatedEnv();
  let blobDir: string;

  beforeAll(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'rh-proc-'));
    env.BLOB_DIR = blobDir;
    env.LOG_LEVEL = 'info';
  });
  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: env.DATABASE_URL });
    await pool.query(`DROP SCHEMA IF EXISTS "${env.PG_SCHEMA}" CASCADE`);
    await pool.end();
    await rm(blobDir, { recursive: true, force: true });
  });

  it('serves the API, drains on SIGTERM, and exits 0 after closing HTTP, queues and pools', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawnHub('src/main.ts', [], { ...env, PORT: String(port), SHUTDOWN_DRAIN_MS: '2000' });
    const output = collect(child);
    await waitForHttp(`${base}/health`);
    const version = await fetch(`${base}/version`);
    expect(version.status).toBe(200);
    expect(await (await fetch(`${base}/health/ready`)).json()).toEqual({ status: 'ready' });
    child.kill('SIGTERM');
    // Draining: no longer ready, but still answering, and telling clients to reconnect elsewhere.
    let ready: Response | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      ready = await fetch(`${base}/health/ready`);
      if (ready.status === 503) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(ready?.status).toBe(503);
    expect(await ready?.json()).toEqual({ status: 'draining' });
    const during = await fetch(`${base}/version`);
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).toBe('close');
    const result = await exited(child);
    expect(result).toEqual({ code: 0, signal: null });
    expect(output.stdout()).toContain('shutdown complete');
  });

  it('runs as a worker with only /health and /metrics over HTTP', async () => {
    const port = await freePort();
    const child = spawnHub('src/main.ts', [], { ...env, PORT: String(port), APP_ROLE: 'worker' });
    await waitForHttp(`http://127.0.0.1:${port}/health`);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/version`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/redoc`)).status).toBe(404);
    child.kill('SIGTERM');
    expect((await exited(child)).code).toBe(0);
  });

  it('refuses to boot with bad configuration, naming every bad key', async () => {
    const child = spawnHub('src/main.ts', [], {
      ...env,
      PORT: 'x',
      APP_ROLE: 'nope',
      NODE_ENV: 'production',
    });
    const output = collect(child);
    const result = await exited(child);
    expect(result.code).toBe(1);
    for (const key of ['PORT', 'APP_ROLE', 'JWT_SECRET', 'URL_SIGNING_KEY']) {
      expect(output.stderr()).toContain(key);
    }
  });

  it('runs "runtime-hub migrate" and "runtime-hub health"', async () => {
    const migrate = spawnHub('src/cli.ts', ['migrate'], env);
    const migrateOut = collect(migrate);
    expect((await exited(migrate)).code).toBe(0);
    expect(migrateOut.stdout()).toMatch(/schema version: \d+/);

    const health = spawnHub('src/cli.ts', ['health'], env);
    const healthOut = collect(health);
    expect((await exited(health)).code).toBe(0);
    expect(JSON.parse(healthOut.stdout()).status).toBe('ok');
  });

  it('creates an admin with "runtime-hub users create-admin --password-stdin"', async () => {
    const create = spawnHub(
      'src/cli.ts',
      ['users', 'create-admin', '--username', 'cli-admin', '--password-stdin'],
      env,
    );
    const output = collect(create);
    create.stdin?.end('a-very-long-cli-password\n');
    expect((await exited(create)).code).toBe(0);
    expect(output.stdout()).toContain('created admin cli-admin');

    const short = spawnHub(
      'src/cli.ts',
      ['users', 'create-admin', '--username', 'x-admin', '--password-stdin'],
      env,
    );
    const shortOut = collect(short);
    short.stdin?.end('short\n');
    expect((await exited(short)).code).toBe(1);
    expect(shortOut.stderr()).toContain('at least 12 characters');

    const hub = await startTestHub({
      env: { MONGO_DB: env.MONGO_DB!, PG_SCHEMA: env.PG_SCHEMA!, REDIS_PREFIX: env.REDIS_PREFIX! },
    });
    try {
      const token = await passwordToken(hub, 'cli-admin', 'a-very-long-cli-password');
      const me = await hub.inject({
        method: 'GET',
        url: '/users/me',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(me.json()).toMatchObject({ username: 'cli-admin', is_admin: true });
    } finally {
      await hub.close();
    }
  });
});
