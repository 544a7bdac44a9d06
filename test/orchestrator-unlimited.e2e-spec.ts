import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresService } from '../src/infra/postgres/postgres.service.js';
import { CONTROL_QUEUE, OrchestratorQueues } from '../src/orchestrator/daemon/orchestrator-queues.js';
import { startTestHub, type TestHub } from './support/harness.js';
import {
  adminClient,
  eventsOf,
  FAST_ORCHESTRATOR_ENV,
  waitForStatus,
  type ApiClient,
} from './support/orchestrator.js';

/** A hub with no concurrency limit at all: nothing can hold a launched run back. */
describe('orchestrator without concurrency limits', () => {
  let hub: TestHub;
  let api: ApiClient;
  let postgres: PostgresService;

  async function launch(job: string): Promise<{ runId: string; status: string }> {
    const res = await api.inject({ method: 'POST', url: `/orchestrator/jobs/${job}/runs`, payload: {} });
    expect(res.statusCode).toBe(201);
    return res.json<{ runId: string; status: string }>();
  }

  async function undispatched(): Promise<number> {
    const { rows } = await postgres.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orch_outbox WHERE dispatched_at IS NULL',
    );
    return rows[0]?.n ?? -1;
  }

  beforeAll(async () => {
    hub = await startTestHub({ env: { ...FAST_ORCHESTRATOR_ENV, ORCH_MAX_CONCURRENT_RUNS: '-1' } });
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
