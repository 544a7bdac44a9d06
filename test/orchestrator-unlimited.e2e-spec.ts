import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresService } from '../src/infra/postgres/postgres.service.js';
import {
  CONTROL_QUEUE,
  OrchestratorQueues,
  RUNS_QUEUE,
} from '../src/orchestrator/daemon/orchestrator-queues.js';
import { RunExecutor } from '../src/orchestrator/worker/run-executor.js';
import { isolatedEnv, startTestHub, type TestHub } from './support/harness.js';
import {
  adminClient,
  eventsOf,
  FAST_ORCHESTRATOR_ENV,
  getRun,
  launchRun,
  waitFor,
  waitForStatus,
  type ApiClient,
  type RunBody,
} from './support/orchestrator.js';

/**
 * A hub with no concurrency limit at all: nothing can hold a launched run back. With eager start off,
 * every launch goes through the outbox and the runs queue, as it does from an `api` process.
 */
describe('orchestrator without concurrency limits, through the queue', () => {
  let hub: TestHub;
  let api: ApiClient;
  let postgres: PostgresService;

  const launch = (job: string): Promise<RunBody> => launchRun(api, job);

  async function undispatched(): Promise<number> {
    const { rows } = await postgres.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orch_outbox WHERE dispatched_at IS NULL',
    );
    return rows[0]?.n ?? -1;
  }

  beforeAll(async () => {
    hub = await startTestHub({
      env: { ...FAST_ORCHESTRATOR_ENV, ORCH_MAX_CONCURRENT_RUNS: '-1', ORCH_EAGER_START: 'false' },
    });
    api = await adminClient(hub);
    postgres = hub.app.get(PostgresService);
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('hands a launched run to a worker in the statement that creates it, with the events of a coordinator pass', async () => {
    const control = hub.app.get(OrchestratorQueues).queue(CONTROL_QUEUE);
    // Paused, the control queue delivers no periodic coordinator pass: the launch alone starts the run.
    await control.pause();
    try {
      const launched = await launch('noop_job');
      expect(launched.status).toBe('STARTING');
      expect((await waitForStatus(api, launched.runId, ['SUCCESS', 'FAILURE'], 5000)).status).toBe('SUCCESS');
      const types = (await eventsOf(api, launched.runId)).map((e) => e.type);
      expect(types.slice(0, 3)).toEqual(['RUN_ENQUEUED', 'RUN_STARTING', 'RUN_START']);
      expect(types.at(-1)).toBe('RUN_SUCCESS');
    } finally {
      await control.resume();
    }
  });

  it('starts a burst of launches with one outbox message and one RUN_STARTING each, every message marked sent', async () => {
    const launched = await Promise.all(Array.from({ length: 40 }, () => launch('noop_job')));
    expect(launched.every((run) => run.status === 'STARTING')).toBe(true);
    for (const run of launched) {
      expect((await waitForStatus(api, run.runId, ['SUCCESS', 'FAILURE'], 10_000)).status).toBe('SUCCESS');
    }
    const { rows } = await postgres.query<{ run_id: string; messages: number; starting: number }>(
      `SELECT r.run_id,
         (SELECT count(*)::int FROM orch_outbox o WHERE o.payload->>'runId' = r.run_id::text) AS messages,
         (SELECT count(*)::int FROM orch_event_logs e WHERE e.run_id = r.run_id AND e.event_type = 'RUN_STARTING') AS starting
       FROM orch_runs r WHERE r.run_id = ANY($1::uuid[])`,
      [launched.map((run) => run.runId)],
    );
    expect(rows).toHaveLength(40);
    expect(rows.every((row) => row.messages === 1 && row.starting === 1)).toBe(true);
    expect(await undispatched()).toBe(0);
  });
});

/** The same hub with eager start (the default): its own run workers take what they have room for. */
describe('orchestrator without concurrency limits, started at launch', () => {
  let hub: TestHub;
  let api: ApiClient;
  let postgres: PostgresService;

  const launch = (job: string, payload: object = {}): Promise<RunBody> => launchRun(api, job, payload);

  async function messagesFor(runIds: readonly string[]): Promise<Record<string, number>> {
    const { rows } = await postgres.query<{ run_id: string; n: number }>(
      `SELECT payload->>'runId' AS run_id, count(*)::int AS n FROM orch_outbox
       WHERE kind = 'execute-run' AND payload->>'runId' = ANY($1::text[]) GROUP BY 1`,
      [runIds],
    );
    return Object.fromEntries(rows.map((r) => [r.run_id, r.n]));
  }

  beforeAll(async () => {
    hub = await startTestHub({
      env: { ...FAST_ORCHESTRATOR_ENV, ORCH_MAX_CONCURRENT_RUNS: '-1', ORCH_RUN_WORKER_CONCURRENCY: '4' },
    });
    api = await adminClient(hub);
    postgres = hub.app.get(PostgresService);
    await waitFor('the run workers to start', async () => {
      const res = await api.inject({ method: 'POST', url: '/orchestrator/jobs/noop_job/runs', payload: {} });
      return res.json<RunState>().status === 'STARTED';
    });
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('executes a launched run in the launching process, claimed in the statement that creates it, with no queue', async () => {
    const runs = hub.app.get(OrchestratorQueues).queue(RUNS_QUEUE);
    // Paused, the runs queue delivers nothing: only the launching process itself can execute the run.
    await runs.pause();
    try {
      const launched = await launch('noop_job');
      expect(launched).toMatchObject({ status: 'STARTED', workerId: hub.app.get(RunExecutor).workerId });
      expect((await waitForStatus(api, launched.runId, ['SUCCESS', 'FAILURE'], 5000)).status).toBe('SUCCESS');
      const events = await eventsOf(api, launched.runId);
      expect(events.slice(0, 3).map((e) => e.type)).toEqual(['RUN_ENQUEUED', 'RUN_STARTING', 'RUN_START']);
      expect(events[2]?.data).toEqual({ workerId: launched.workerId });
      expect(events.at(-1)?.type).toBe('RUN_SUCCESS');
      expect(await messagesFor([launched.runId])).toEqual({});
    } finally {
      await runs.resume();
    }
  });

  it('takes at launch no more runs than its run workers have slots; the queue gets the rest', async () => {
    const slow = { runConfig: { ops: { wait: { config: { ms: 400 } } } } };
    const launched = await Promise.all(Array.from({ length: 12 }, () => launch('slow_job', slow)));
    const eager = launched.filter((run) => run.status === 'STARTED');
    const queued = launched.filter((run) => run.status === 'STARTING');
    expect(eager.length).toBeGreaterThan(0);
    expect(eager.length).toBeLessThanOrEqual(4);
    expect(eager.length + queued.length).toBe(12);
    const messages = await messagesFor(launched.map((run) => run.runId));
    expect(eager.every((run) => messages[run.runId] === undefined)).toBe(true);
    expect(queued.every((run) => messages[run.runId] === 1)).toBe(true);
    for (const run of launched) {
      expect((await waitForStatus(api, run.runId, ['SUCCESS', 'FAILURE'], 15_000)).status).toBe('SUCCESS');
    }
  });

  it('cancels a run it started at launch, aborting its op', async () => {
    const launched = await launch('slow_job', { runConfig: { ops: { wait: { config: { ms: 30_000 } } } } });
    expect(launched.status).toBe('STARTED');
    await waitFor('the wait step to start', async () =>
      (await eventsOf(api, launched.runId)).some((e) => e.type === 'STEP_START' && e.stepKey === 'wait'),
    );
    const cancel = await api.inject({ method: 'POST', url: `/orchestrator/runs/${launched.runId}:cancel` });
    expect(cancel.json().status).toBe('CANCELING');
    expect((await waitForStatus(api, launched.runId, ['CANCELED', 'FAILURE', 'SUCCESS'], 5000)).status).toBe(
      'CANCELED',
    );
    expect((await eventsOf(api, launched.runId)).find((e) => e.type === 'STEP_FAILURE')).toMatchObject({
      stepKey: 'wait',
      data: { interrupted: true },
    });
    expect((await getRun(api, launched.runId)).workerId).toBe(launched.workerId);
  });
});

describe('a process shutting down with runs it started at launch', () => {
  it('lets them finish before it stops', async () => {
    const env = { ...isolatedEnv(), ...FAST_ORCHESTRATOR_ENV, ORCH_MAX_CONCURRENT_RUNS: '-1' };
    const leaving = await startTestHub({ env, keepData: true });
    // A second process on the same stores, to read the run once the first has gone.
    const reader = await startTestHub({ env: { ...env, APP_ROLE: 'api' } });
    try {
      const api = await adminClient(leaving);
      const launched = await waitFor('a run started at launch', async () => {
        const res = await api.inject({
          method: 'POST',
          url: '/orchestrator/jobs/slow_job/runs',
          payload: { runConfig: { ops: { wait: { config: { ms: 1500 } } } } },
        });
        const run = res.json<RunState>();
        return run.status === 'STARTED' ? run : undefined;
      });
      await leaving.close();
      expect(await getRun(await adminClient(reader), launched.runId)).toMatchObject({
        status: 'SUCCESS',
        resumeAttempts: 0,
        workerId: launched.workerId,
      });
    } finally {
      await reader.close();
    }
  }, 60_000);
});

interface RunState {
  runId: string;
  status: string;
  workerId?: string;
}
