import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresService } from '../src/infra/postgres/postgres.service.js';
import {
  CONTROL_QUEUE,
  OrchestratorQueues,
  RUNS_QUEUE,
} from '../src/orchestrator/daemon/orchestrator-queues.js';
import { lockKey } from '../src/orchestrator/storage/sql.js';
import { startTestHub, type TestHub } from './support/harness.js';
import {
  adminClient,
  eventsOf,
  FAST_ORCHESTRATOR_ENV,
  waitForStatus,
  type ApiClient,
} from './support/orchestrator.js';

describe('orchestrator coordinator, run monitor and housekeeping', () => {
  let hub: TestHub;
  let api: ApiClient;
  let postgres: PostgresService;

  /** Runs `work` while the coordinator is held off, so launched runs stay QUEUED until it returns. */
  async function withCoordinatorHeld<T>(work: () => Promise<T>): Promise<T> {
    const blocker = await postgres.pool.connect();
    const key = lockKey(postgres.schema, 'coordinator');
    await blocker.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    try {
      return await work();
    } finally {
      await blocker.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      blocker.release();
    }
  }

  async function launch(job: string, payload: object = {}): Promise<string> {
    const res = await api.inject({ method: 'POST', url: `/orchestrator/jobs/${job}/runs`, payload });
    expect(res.statusCode).toBe(201);
    return res.json<{ runId: string }>().runId;
  }

  /** Launches a run while the coordinator is held off, then puts it in the state `shape` writes. */
  function runIn(shape: string): Promise<string> {
    return withCoordinatorHeld(async () => {
      const runId = await launch('noop_job');
      await postgres.query(`UPDATE orch_runs SET ${shape} WHERE run_id = $1`, [runId]);
      return runId;
    });
  }

  beforeAll(async () => {
    hub = await startTestHub({
      env: {
        ...FAST_ORCHESTRATOR_ENV,
        ORCH_MAX_RESUME_ATTEMPTS: '0',
        ORCH_START_TIMEOUT_MS: '2000',
        ORCH_MAX_CONCURRENT_RUNS: '1',
      },
    });
    api = await adminClient(hub);
    postgres = hub.app.get(PostgresService);
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('fails a run whose worker stopped heartbeating once no resume attempts are left', async () => {
    const runId = await runIn(
      `status = 'STARTED', worker_id = 'ghost:1:dead', heartbeat_at = now() - interval '1 hour', start_time = now()`,
    );
    const run = await waitForStatus(api, runId, ['FAILURE', 'SUCCESS'], 10_000);
    expect(run).toMatchObject({ status: 'FAILURE', failureReason: 'RUN_WORKER_RESTART' });
    expect((await eventsOf(api, runId)).at(-1)?.message).toMatch(/ghost:1:dead stopped heartbeating/);
  });

  it('fails a run stuck in STARTING past the start timeout', async () => {
    const runId = await runIn(`status = 'STARTING', updated_at = now() - interval '1 hour'`);
    const run = await waitForStatus(api, runId, ['FAILURE', 'SUCCESS'], 10_000);
    expect(run).toMatchObject({ status: 'FAILURE', failureReason: 'START_TIMEOUT' });
  });

  it('marks a run stuck in CANCELING as CANCELED past the cancel timeout', async () => {
    const runId = await runIn(`status = 'CANCELING', updated_at = now() - interval '1 hour'`);
    expect((await waitForStatus(api, runId, ['CANCELED'], 10_000)).status).toBe('CANCELED');
  });

  it('relays an outbox message the committing process never sent', async () => {
    // As if the coordinator died between its commit and the Redis add.
    const runId = await runIn(`status = 'STARTING', updated_at = now()`);
    await postgres.query(
      `INSERT INTO orch_outbox (kind, payload, created_at)
       VALUES ('execute-run', jsonb_build_object('runId', $1::text, 'attempt', 0), now() - interval '1 hour')`,
      [runId],
    );
    expect((await waitForStatus(api, runId, ['SUCCESS', 'FAILURE'], 10_000)).status).toBe('SUCCESS');
    const { rows } = await postgres.query<{ pending: number }>(
      `SELECT count(*)::int AS pending FROM orch_outbox WHERE dispatched_at IS NULL`,
    );
    expect(rows[0]?.pending).toBe(0);
  });

  it('housekeeping drops old skipped ticks and old runs’ events, keeping asset materializations', async () => {
    await postgres.query(
      `INSERT INTO orch_ticks (instigator_name, instigator_type, status, started_at) VALUES
         ('housekeeping_weekly', 'schedule', 'SKIPPED', now() - interval '10 days'),
         ('housekeeping_weekly', 'schedule', 'SKIPPED', now() - interval '1 day'),
         ('housekeeping_weekly', 'schedule', 'FAILURE', now() - interval '10 days')`,
    );
    const oldRun = await runIn(`status = 'SUCCESS', created_at = now() - interval '100 days'`);
    await postgres.query(
      `INSERT INTO orch_event_logs (run_id, event_type, message, asset_key) VALUES
         ($1, 'LOGS', 'old log', NULL), ($1, 'ASSET_MATERIALIZATION', 'kept', 'numbers')`,
      [oldRun],
    );
    const res = await api.inject({
      method: 'POST',
      url: '/orchestrator/jobs/housekeeping/runs',
      payload: {},
    });
    const runId = res.json<{ runId: string }>().runId;
    expect((await waitForStatus(api, runId, ['SUCCESS', 'FAILURE'])).status).toBe('SUCCESS');
    const ticks = await postgres.query<{ status: string; old: boolean }>(
      `SELECT status, started_at < now() - interval '7 days' AS old FROM orch_ticks
       WHERE instigator_name = 'housekeeping_weekly' ORDER BY id`,
    );
    expect(ticks.rows).toEqual([
      { status: 'SKIPPED', old: false },
      { status: 'FAILURE', old: true },
    ]);
    expect((await eventsOf(api, oldRun)).map((e) => e.type)).toEqual(['ASSET_MATERIALIZATION']);
    const logs = (await eventsOf(api, runId)).filter((e) => e.type === 'LOGS').map((e) => e.message);
    expect(logs).toContain('dropped 1 skipped tick(s)');
  });

  it('starts a run launched on a process running the coordinator without a message through the control queue', async () => {
    const control = hub.app.get(OrchestratorQueues).queue(CONTROL_QUEUE);
    // Paused, the control queue delivers neither wake-up messages nor the periodic pass.
    await control.pause();
    try {
      const runId = await launch('noop_job');
      expect((await waitForStatus(api, runId, ['SUCCESS', 'FAILURE'], 5000)).status).toBe('SUCCESS');
    } finally {
      await control.resume();
    }
  });

  it('keeps a finished run execution in the runs queue by the worker policy, the job carrying no options', async () => {
    const queues = hub.app.get(OrchestratorQueues);
    const runId = await launch('noop_job');
    expect((await waitForStatus(api, runId, ['SUCCESS', 'FAILURE'], 5000)).status).toBe('SUCCESS');
    const deadline = Date.now() + 5000;
    while ((await queues.executionState(runId, 0)) !== 'completed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await queues.executionState(runId, 0)).toBe('completed');
    const job = await queues.queue(RUNS_QUEUE).getJob(OrchestratorQueues.executionJobId(runId, 0));
    expect(job?.opts.removeOnComplete).toBeUndefined();
    expect(job?.opts.removeOnFail).toBeUndefined();
  });

  it('starts queued runs one at a time under ORCH_MAX_CONCURRENT_RUNS=1, by priority then age', async () => {
    const slow = { runConfig: { ops: { wait: { config: { ms: 150 } } } } };
    const ids = await withCoordinatorHeld(async () => [
      await launch('slow_job', slow),
      await launch('slow_job', slow),
      await launch('slow_job', slow),
      await launch('slow_job', { ...slow, tags: { 'dagster/priority': '10' } }),
    ]);
    const runs = await Promise.all(ids.map((id) => waitForStatus(api, id, ['SUCCESS', 'FAILURE'], 20_000)));
    expect(runs.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    const byStart = [...runs].sort(
      (a, b) => Date.parse(String(a.startTime)) - Date.parse(String(b.startTime)),
    );
    expect(byStart.map((r) => r.runId)).toEqual([ids[3], ids[0], ids[1], ids[2]]);
    for (let i = 1; i < byStart.length; i++) {
      expect(Date.parse(String(byStart[i]?.startTime))).toBeGreaterThanOrEqual(
        Date.parse(String(byStart[i - 1]?.endTime)),
      );
    }
  });
});
