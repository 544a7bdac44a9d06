import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { siteRepository } from '../src/site/repository.js';
import { ADMIN } from './support/auth.js';
import { DRS } from './support/drs.js';
import { isolatedEnv } from './support/harness.js';
import { FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';
import { collect, exited, freePort, spawnHub, waitForHttp } from './support/process.js';
import { S3_START_TIMEOUT_MS, emptyS3Prefix, ensureTestS3, s3Env, testS3Prefix } from './support/s3.js';

interface HubProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly env: Record<string, string>;
  child: ChildProcess;
  output: { stdout: () => string; stderr: () => string };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every sensor, at one tick a second, so a few seconds show whether the fleet ticks each once. */
const SENSOR_INTERVAL_SECONDS = 1;
const SENSOR_INTERVALS = Object.fromEntries(
  [...siteRepository.sensors.keys(), 'latency_sensor'].map((name) => [name, SENSOR_INTERVAL_SECONDS]),
);

/**
 * The scaled-out deployment: two api processes and two worker processes, each its own OS process with
 * its own name, sharing one MongoDB database, PostgreSQL schema, Redis prefix and S3 bucket prefix and
 * nothing else — no shared directory. The test is their client and their load balancer.
 */
describe('a deployment of 2 api and 2 worker processes on shared stores', () => {
  const s3Prefix = testS3Prefix();
  const shared: Record<string, string> = {
    ...isolatedEnv(),
    ...FAST_ORCHESTRATOR_ENV,
    ...s3Env(s3Prefix),
    ORCH_SENSOR_INTERVALS: JSON.stringify(SENSOR_INTERVALS),
    ORCH_RUN_WORKER_CONCURRENCY: '2',
    SHUTDOWN_DRAIN_MS: '1500',
    URL_SIGNING_KEY: randomBytes(24).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
  };
  const processes: HubProcess[] = [];
  let db: pg.Client;
  let token: string;

  async function start(
    name: string,
    role: 'api' | 'worker',
    extra: Record<string, string> = {},
    port?: number,
  ): Promise<HubProcess> {
    const chosen = port ?? (await freePort());
    const url = `http://127.0.0.1:${chosen}`;
    const env = {
      ...shared,
      APP_ROLE: role,
      SERVICE_NAME: name,
      PORT: String(chosen),
      PUBLIC_BASE_URL: url,
      // No shared directory: a blob that went to a local directory would be missing elsewhere.
      BLOB_DIR: `/nonexistent/${name}`,
      // A line per request of the traffic below would cost the processes (and the test reading their
      // output) CPU that a restarting process needs; the workers' start is awaited by their log line.
      ...(role === 'api' ? { LOG_LEVEL: 'warn' } : {}),
      ...extra,
    };
    const child = spawnHub('src/main.ts', [], env);
    const hub: HubProcess = { name, port: chosen, url, env, child, output: collect(child) };
    const existing = processes.findIndex((p) => p.name === name);
    if (existing >= 0) {
      processes[existing] = hub;
    } else {
      processes.push(hub);
    }
    await waitForHttp(`${url}/health`, 90_000);
    if (role === 'worker') {
      await waitFor(
        `${name}'s daemon to start`,
        () => hub.output.stdout().includes('orchestrator daemon and run workers started'),
        60_000,
      );
    }
    return hub;
  }

  const byName = (name: string): HubProcess => processes.find((p) => p.name === name)!;
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    await ensureTestS3();
    db = new pg.Client({ connectionString: shared.DATABASE_URL! });
    await db.connect();
    // The first process creates the schema, indexes and bootstraps; the rest join a running system.
    await start('api-1', 'api');
    await Promise.all([
      start('api-2', 'api', { S3_PRESIGNED_ACCESS_URLS: 'true' }),
      start('worker-1', 'worker'),
      start('worker-2', 'worker'),
    ]);
    await db.query(`SET search_path TO "${shared.PG_SCHEMA!}"`);
    const res = await fetch(`${byName('api-1').url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username: ADMIN.username, password: ADMIN.password }),
    });
    expect(res.status).toBe(200);
    token = ((await res.json()) as { access_token: string }).access_token;
  }, S3_START_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(
      processes.map(async (p) => {
        if (p.child.exitCode === null && p.child.signalCode === null) {
          p.child.kill('SIGINT');
          await exited(p.child);
        }
      }),
    );
    await db?.query(`DROP SCHEMA IF EXISTS "${shared.PG_SCHEMA!}" CASCADE`).catch(() => undefined);
    await db?.end();
    await emptyS3Prefix(s3Prefix);
  }, 60_000);

  async function upload(via: HubProcess, bytes: Buffer, name: string): Promise<{ id: string }> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)]), name);
    const res = await fetch(`${via.url}/objects:upload`, { method: 'POST', body: form, headers: auth() });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { id: string };
  }

  async function accessUrl(via: HubProcess, id: string): Promise<string> {
    const res = await fetch(`${via.url}${DRS}/objects/${id}/access/https`, { headers: auth() });
    expect(res.status).toBe(200);
    return ((await res.json()) as { url: string }).url;
  }

  it('serves through api 2 what was uploaded through api 1, by the hub URL and the presigned S3 URL', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 11);
    const { id } = await upload(byName('api-1'), bytes, 'shared.bin');
    const sha256 = createHash('sha256').update(bytes).digest('hex');

    // api-1 hands out its own signed URL; any api process checks the signature and streams from S3.
    const hubUrl = await accessUrl(byName('api-1'), id);
    expect(hubUrl.startsWith(`${byName('api-1').url}/blobs/`)).toBe(true);
    for (const target of [byName('api-1'), byName('api-2')]) {
      const res = await fetch(hubUrl.replace(byName('api-1').url, target.url));
      expect(res.status).toBe(200);
      expect(
        createHash('sha256')
          .update(Buffer.from(await res.arrayBuffer()))
          .digest('hex'),
      ).toBe(sha256);
    }

    // api-2 is configured to hand out presigned URLs of the object store itself.
    const presigned = await accessUrl(byName('api-2'), id);
    expect(presigned.startsWith(shared.S3_ENDPOINT!)).toBe(true);
    expect(presigned).toContain('X-Amz-Expires=');
    const direct = await fetch(presigned);
    expect(direct.status).toBe(200);
    expect(
      createHash('sha256')
        .update(Buffer.from(await direct.arrayBuffer()))
        .digest('hex'),
    ).toBe(sha256);
  });

  it('ticks every sensor once per interval across the fleet, with one run per tick', async () => {
    const started = await fetch(`${byName('api-2').url}/orchestrator/sensors/latency_sensor:start`, {
      method: 'POST',
      headers: auth(),
    });
    expect(started.status).toBe(200);
    const { rows: window0 } = await db.query<{ now: Date }>('SELECT now() AS now');
    const from = window0[0]!.now;
    await sleep(6500);
    const { rows: window1 } = await db.query<{ now: Date }>('SELECT now() AS now');
    const to = window1[0]!.now;
    await fetch(`${byName('api-1').url}/orchestrator/sensors/latency_sensor:stop`, {
      method: 'POST',
      headers: auth(),
    });

    const { rows: ticks } = await db.query<{ instigator_name: string; started_at: Date; run_keys: string[] }>(
      `SELECT instigator_name, started_at, run_keys FROM orch_ticks
        WHERE instigator_type = 'sensor' AND started_at >= $1 AND started_at < $2
        ORDER BY instigator_name, started_at`,
      [from, to],
    );
    const bySensor = new Map<string, { started_at: Date; run_keys: string[] }[]>();
    for (const tick of ticks) {
      bySensor.set(tick.instigator_name, [...(bySensor.get(tick.instigator_name) ?? []), tick]);
    }
    const { rows: running } = await db.query<{ name: string }>(
      `SELECT name FROM orch_instigators WHERE type = 'sensor' AND status = 'RUNNING' ORDER BY name`,
    );
    const seconds = (to.getTime() - from.getTime()) / 1000;
    const allowed = Math.floor(seconds / SENSOR_INTERVAL_SECONDS) + 1;
    const report = [...new Set([...running.map((r) => r.name), 'latency_sensor'])].map((name) => {
      const times = (bySensor.get(name) ?? []).map((t) => t.started_at.getTime());
      const gaps = times.slice(1).map((time, index) => time - times[index]!);
      return { name, ticks: times.length, tooMany: times.length > allowed, minGapMs: Math.min(...gaps) };
    });
    for (const sensor of report) {
      expect(sensor, JSON.stringify(report)).toMatchObject({ tooMany: false });
      expect(sensor.ticks, JSON.stringify(report)).toBeGreaterThanOrEqual(3);
      // Two evaluations of one interval (one per worker) would sit milliseconds apart.
      expect(sensor.minGapMs, JSON.stringify(report)).toBeGreaterThan(SENSOR_INTERVAL_SECONDS * 500);
    }
    const latencyTicks = bySensor.get('latency_sensor') ?? [];
    const keys = latencyTicks.flatMap((t) => t.run_keys);
    const { rows: runs } = await db.query<{ run_key: string }>(
      `SELECT run_key FROM orch_runs WHERE instigator_name = 'latency_sensor' AND run_key = ANY($1)`,
      [keys],
    );
    expect(keys.length).toBe(latencyTicks.length);
    expect(runs.map((r) => r.run_key).sort()).toEqual([...keys].sort());
  }, 30_000);

  async function launch(payload: object): Promise<string> {
    const res = await fetch(`${byName('api-1').url}/orchestrator/jobs/slow_job/runs`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { runId: string }).runId;
  }

  type RunRow = { status: string; worker_id: string | null; resume_attempts: number };

  /** One statement for all of them: `db` is a single connection, which runs one query at a time. */
  async function runRows(runIds: readonly string[]): Promise<RunRow[]> {
    const { rows } = await db.query<RunRow & { run_id: string }>(
      'SELECT run_id, status, worker_id, resume_attempts FROM orch_runs WHERE run_id = ANY($1::uuid[])',
      [runIds],
    );
    return runIds.map((id) => rows.find((r) => r.run_id === id)!);
  }

  async function runRow(runId: string): Promise<RunRow> {
    const [row] = await runRows([runId]);
    return row!;
  }

  const pidOf = (workerId: string | null): number => Number(String(workerId).split(':')[1]);

  it('spreads runs over both workers', async () => {
    // Two runs at a time per worker: four long runs cannot all fit on one.
    const runIds = await Promise.all(
      Array.from({ length: 4 }, () => launch({ runConfig: { ops: { wait: { config: { ms: 2000 } } } } })),
    );
    await waitFor(
      'the four runs to finish',
      async () => (await runRows(runIds)).every((r) => r.status === 'SUCCESS'),
      40_000,
    );
    const pids = new Set((await runRows(runIds)).map((r) => pidOf(r.worker_id)));
    expect([...pids].sort()).toEqual([byName('worker-1').child.pid, byName('worker-2').child.pid].sort());
  }, 60_000);

  it('resumes on the other worker a run whose worker is killed mid-run', async () => {
    const runId = await launch({ runConfig: { ops: { wait: { config: { ms: 2500 } } } } });
    await waitFor('the run to start on a worker', async () => (await runRow(runId)).status === 'STARTED');
    const before = await runRow(runId);
    const victim = processes.find((p) => p.child.pid === pidOf(before.worker_id));
    expect(victim?.env.APP_ROLE).toBe('worker');
    victim!.child.kill('SIGKILL');
    await exited(victim!.child);
    await waitFor(
      'the run to finish elsewhere',
      async () => (await runRow(runId)).status === 'SUCCESS',
      30_000,
    );
    const after = await runRow(runId);
    expect(after.resume_attempts).toBe(1);
    expect(pidOf(after.worker_id)).not.toBe(pidOf(before.worker_id));
  }, 60_000);

  it('loses no request while the api processes restart one after the other under steady traffic', async () => {
    const apis = ['api-1', 'api-2'];
    const ready = new Set(apis);
    const bytes = randomBytes(256 * 1024);
    const { id } = await upload(byName('api-1'), bytes, 'traffic.bin');
    const signedPath = new URL(await accessUrl(byName('api-1'), id));
    let stop = false;
    const outcomes = { ok: 0, failed: [] as string[] };

    // The load balancer: polls readiness and sends requests only to processes that say they are ready.
    const poller = (async () => {
      while (!stop) {
        await Promise.all(
          apis.map(async (name) => {
            try {
              const res = await fetch(`${byName(name).url}/health/ready`, {
                signal: AbortSignal.timeout(1000),
              });
              if (res.status === 200) {
                ready.add(name);
              } else {
                ready.delete(name);
              }
            } catch {
              ready.delete(name);
            }
          }),
        );
        await sleep(100);
      }
    })();

    let turn = 0;
    const client = async (): Promise<void> => {
      while (!stop) {
        const candidates = apis.filter((name) => ready.has(name));
        if (candidates.length === 0) {
          await sleep(20);
          continue;
        }
        const target = byName(candidates[turn++ % candidates.length]!);
        const kind = turn % 3;
        try {
          const res =
            kind === 0
              ? await fetch(`${target.url}${DRS}/objects/${id}`, { headers: auth() })
              : kind === 1
                ? await fetch(`${target.url}${signedPath.pathname}${signedPath.search}`)
                : await fetch(`${target.url}/health/ready`);
          const body = Buffer.from(await res.arrayBuffer());
          if (kind === 1 && (res.status !== 200 || Buffer.compare(body, bytes) !== 0)) {
            outcomes.failed.push(`${target.name} blob ${res.status} ${body.length}`);
          } else if (kind === 0 && res.status !== 200) {
            outcomes.failed.push(`${target.name} object ${res.status}`);
          } else {
            outcomes.ok += 1;
          }
        } catch (error) {
          outcomes.failed.push(
            `${target.name}: ${(error as Error).message} ${String((error as Error).cause)}`,
          );
        }
        // Steady, not flat out: a few hundred requests a second still cross every restart, and the CPU
        // is left to the process being restarted rather than spent on a request storm.
        await sleep(10);
      }
    };
    const clients = Array.from({ length: 4 }, client);

    for (const name of apis) {
      const old = byName(name);
      const okBefore = outcomes.ok;
      // A slow download in flight when the process is told to stop must still complete.
      const slow = fetch(`${old.url}${signedPath.pathname}${signedPath.search}`).then(async (res) => {
        const reader = res.body!.getReader();
        let received = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            return { status: res.status, received };
          }
          received += value.length;
          await sleep(150);
        }
      });
      await sleep(300);
      old.child.kill('SIGTERM');
      await waitFor(`${name} to report draining`, () => !ready.has(name), 10_000);
      const code = await exited(old.child);
      expect(code).toMatchObject({ code: 0 });
      expect(await slow).toEqual({ status: 200, received: bytes.length });
      await start(name, 'api', name === 'api-2' ? { S3_PRESIGNED_ACCESS_URLS: 'true' } : {}, old.port);
      await waitFor(`${name} to be back in rotation`, () => ready.has(name), 10_000);
      expect(outcomes.ok).toBeGreaterThan(okBefore);
    }
    await sleep(500);
    stop = true;
    await Promise.all([...clients, poller]);
    expect(outcomes.failed).toEqual([]);
    expect(outcomes.ok).toBeGreaterThan(100);
  }, 120_000);
});
