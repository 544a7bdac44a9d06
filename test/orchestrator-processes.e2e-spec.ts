import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { INSTIGATORS_QUEUE, OrchestratorQueues } from '../src/orchestrator/daemon/orchestrator-queues.js';
import { PostgresService } from '../src/infra/postgres/postgres.service.js';
import { ADMIN, bearer } from './support/auth.js';
import { isolatedEnv, startTestHub, type TestHub } from './support/harness.js';
import {
  eventsOf,
  FAST_ORCHESTRATOR_ENV,
  getRun,
  launchRun,
  waitFor,
  waitForStatus,
  adminClient,
  type ApiClient,
} from './support/orchestrator.js';
import { collect, exited, freePort, spawnHub, waitForHttp } from './support/process.js';

interface Worker {
  child: ChildProcess;
  output: { stdout: () => string; stderr: () => string };
  url: string;
}

/**
 * The hub in this process serves the API only; two worker processes share its PostgreSQL schema and
 * Redis prefix and do all the orchestration, as separate deployments would.
 */
describe('orchestrator across worker processes', () => {
  const env = { ...isolatedEnv(), ...FAST_ORCHESTRATOR_ENV };
  let hub: TestHub;
  let api: ApiClient;
  let blobDir: string;
  const workers: Worker[] = [];

  /** A hub process of `role` on these stores, once its health answers and its run workers run. */
  async function startProcess(role: 'worker' | 'all', extra: Record<string, string> = {}): Promise<Worker> {
    const port = await freePort();
    const child = spawnHub('src/main.ts', [], {
      ...env,
      APP_ROLE: role,
      PORT: String(port),
      BLOB_DIR: blobDir,
      ...extra,
    });
    const worker = { child, output: collect(child), url: `http://127.0.0.1:${port}` };
    try {
      await waitForHttp(`${worker.url}/health`, 60_000);
      await waitFor('its orchestrator daemon to start', () =>
        worker.output.stdout().includes('orchestrator daemon and run workers started'),
      );
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return worker;
  }

  async function startWorker(): Promise<Worker> {
    const worker = await startProcess('worker');
    workers.push(worker);
    return worker;
  }

  const launch = async (job: string, payload: object = {}): Promise<string> =>
    (await launchRun(api, job, payload)).runId;

  beforeAll(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'rh-orch-proc-'));
    hub = await startTestHub({ env: { ...env, APP_ROLE: 'api' } });
    api = await adminClient(hub);
    await Promise.all([startWorker(), startWorker()]);
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) {
        worker.child.kill('SIGTERM');
        await exited(worker.child);
      }
    }
    await hub?.close();
    await rm(blobDir, { recursive: true, force: true });
  });

  it('creates one run per run key while two worker processes tick the same sensor at once', async () => {
    const start = await api.inject({ method: 'POST', url: '/orchestrator/sensors/dedup_sensor:start' });
    expect(start.statusCode).toBe(200);
    // Besides the 50 ms job scheduler, flood the tick queue so both processes evaluate concurrently.
    const queue = hub.app.get(OrchestratorQueues).queue(INSTIGATORS_QUEUE);
    for (let round = 0; round < 10; round++) {
      await queue.addBulk(
        Array.from({ length: 6 }, () => ({ name: 'tick', data: { kind: 'sensor', name: 'dedup_sensor' } })),
      );
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    await api.inject({ method: 'POST', url: '/orchestrator/sensors/dedup_sensor:stop' });
    await new Promise((resolve) => setTimeout(resolve, 500));

    const postgres = hub.app.get(PostgresService);
    const runs = await postgres.query<{ run_key: string }>(
      `SELECT run_key FROM orch_runs WHERE instigator_name = 'dedup_sensor' ORDER BY run_key`,
    );
    expect(runs.rows.map((r) => r.run_key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    const ticks = await postgres.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM orch_ticks WHERE instigator_name = 'dedup_sensor' GROUP BY status`,
    );
    const byStatus = Object.fromEntries(ticks.rows.map((r) => [r.status, r.n]));
    expect(byStatus.SUCCESS).toBe(1);
    expect(byStatus.SKIPPED).toBeGreaterThanOrEqual(5);
    expect(byStatus.STARTED ?? 0).toBe(0);
  });

  it('cancels a run executing in another process, aborting its op', async () => {
    const runId = await launch('slow_job', { runConfig: { ops: { wait: { config: { ms: 30_000 } } } } });
    await waitFor('the wait step to start', async () =>
      (await eventsOf(api, runId)).some((e) => e.type === 'STEP_START' && e.stepKey === 'wait'),
    );
    const running = await getRun(api, runId);
    expect(workers.map((w) => w.child.pid)).toContain(Number(String(running.workerId).split(':')[1]));
    const cancel = await api.inject({ method: 'POST', url: `/orchestrator/runs/${runId}:cancel` });
    expect(cancel.json().status).toBe('CANCELING');
    const run = await waitForStatus(api, runId, ['CANCELED', 'FAILURE', 'SUCCESS'], 5000);
    expect(run.status).toBe('CANCELED');
    const events = await eventsOf(api, runId);
    expect(events.find((e) => e.type === 'STEP_FAILURE')).toMatchObject({
      stepKey: 'wait',
      data: { interrupted: true },
    });
    expect(events.some((e) => e.stepKey === 'last')).toBe(false);
  });

  it('stops an op that ignores its AbortSignal at the next step boundary', async () => {
    const runId = await launch('stubborn_job', {
      runConfig: { ops: { ignore_abort: { config: { ms: 1500 } } } },
    });
    await waitFor('the stubborn step to start', async () =>
      (await eventsOf(api, runId)).some((e) => e.type === 'STEP_START' && e.stepKey === 'ignore_abort'),
    );
    await api.inject({ method: 'POST', url: `/orchestrator/runs/${runId}:cancel` });
    expect((await waitForStatus(api, runId, ['CANCELED', 'FAILURE', 'SUCCESS'], 8000)).status).toBe(
      'CANCELED',
    );
    const events = await eventsOf(api, runId);
    expect(events.find((e) => e.type === 'STEP_FAILURE')?.stepKey).toBe('ignore_abort');
    expect(events.some((e) => e.stepKey === 'last')).toBe(false);
  });

  it('resumes a run started at launch by an `all` process on a worker after kill -9 of that process', async () => {
    // Kept out of `workers`: the run it starts must be resumed by one of those.
    const { child, url } = await startProcess('all', { ORCH_MAX_CONCURRENT_RUNS: '-1' });
    try {
      const token = await fetch(`${url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', username: ADMIN.username, password: ADMIN.password }),
      }).then(async (res) => (await res.json()) as { access_token: string });
      const launched = await fetch(`${url}/orchestrator/jobs/slow_job/runs`, {
        method: 'POST',
        headers: { ...bearer(token.access_token), 'content-type': 'application/json' },
        body: JSON.stringify({ runConfig: { ops: { wait: { config: { ms: 2500 } } } } }),
      }).then(async (res) => (await res.json()) as { runId: string; status: string; workerId: string });
      expect(launched.status).toBe('STARTED');
      expect(Number(launched.workerId.split(':')[1])).toBe(child.pid);
      await waitFor('the wait step to start', async () =>
        (await eventsOf(api, launched.runId)).some((e) => e.type === 'STEP_START' && e.stepKey === 'wait'),
      );
      child.kill('SIGKILL');
      await exited(child);

      const run = await waitForStatus(api, launched.runId, ['SUCCESS', 'FAILURE'], 20_000);
      expect(run).toMatchObject({ status: 'SUCCESS', resumeAttempts: 1 });
      expect(workers.map((w) => w.child.pid)).toContain(Number(String(run.workerId).split(':')[1]));
      const events = await eventsOf(api, launched.runId);
      expect(events.filter((e) => e.type === 'STEP_START' && e.stepKey === 'first')).toHaveLength(1);
      expect(events.at(-1)?.type).toBe('RUN_SUCCESS');
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
  }, 90_000);

  it('resumes a run on the surviving worker after kill -9 of the worker running it', async () => {
    const runId = await launch('slow_job', { runConfig: { ops: { wait: { config: { ms: 2500 } } } } });
    await waitFor('the wait step to start', async () =>
      (await eventsOf(api, runId)).some((e) => e.type === 'STEP_START' && e.stepKey === 'wait'),
    );
    const running = await getRun(api, runId);
    const victim = workers.find((w) => w.child.pid === Number(String(running.workerId).split(':')[1]));
    expect(victim).toBeDefined();
    victim?.child.kill('SIGKILL');
    await exited(victim?.child as ChildProcess);

    // Worker timeout 1.5 s + monitor every 0.3 s + the 2.5 s step again: well within 20 s.
    const run = await waitForStatus(api, runId, ['SUCCESS', 'FAILURE'], 20_000);
    expect(run).toMatchObject({ status: 'SUCCESS', resumeAttempts: 1 });
    expect(run.workerId).not.toBe(running.workerId);
    const events = await eventsOf(api, runId);
    expect(events.filter((e) => e.type === 'STEP_START' && e.stepKey === 'first')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'STEP_START' && e.stepKey === 'wait')).toHaveLength(2);
    expect(events.some((e) => e.type === 'ENGINE_EVENT' && /stopped heartbeating/.test(e.message))).toBe(
      true,
    );
    expect(events.at(-1)?.type).toBe('RUN_SUCCESS');
  });
});
