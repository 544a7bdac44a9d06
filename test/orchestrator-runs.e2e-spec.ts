import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresService } from '../src/infra/postgres/postgres.service.js';
import { lockKey } from '../src/orchestrator/storage/sql.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { control } from './support/orchestrator-fixtures.js';
import {
  eventsOf,
  FAST_ORCHESTRATOR_ENV,
  waitFor,
  waitForStatus,
  adminClient,
  type ApiClient,
} from './support/orchestrator.js';

async function launch(api: ApiClient, job: string, payload: object = {}): Promise<string> {
  const res = await api.inject({ method: 'POST', url: `/orchestrator/jobs/${job}/runs`, payload });
  expect(res.statusCode).toBe(201);
  return res.json<{ runId: string }>().runId;
}

describe('orchestrator runs on real PostgreSQL and Redis', () => {
  let hub: TestHub;
  let api: ApiClient;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ...FAST_ORCHESTRATOR_ENV, ORCH_MAX_CATCHUP_RUNS: '3' } });
    api = await adminClient(hub);
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('retries an op that fails twice, then succeeds, under its retry policy', async () => {
    const runId = await launch(api, 'flaky_job');
    expect((await waitForStatus(api, runId, ['SUCCESS', 'FAILURE'])).status).toBe('SUCCESS');
    const types = (await eventsOf(api, runId)).filter((e) => e.stepKey === 'flaky').map((e) => e.type);
    expect(types).toEqual([
      'STEP_START',
      'STEP_UP_FOR_RETRY',
      'STEP_RESTARTED',
      'STEP_UP_FOR_RETRY',
      'STEP_RESTARTED',
      'STEP_OUTPUT',
      'STEP_SUCCESS',
    ]);
  });

  it('re-executes a failed run from failure, reusing the outputs of the steps that succeeded', async () => {
    control.failSecondStep = true;
    control.executions.clear();
    const failedRun = await launch(api, 'fixable_job', { tags: { team: 'qa' } });
    const failed = await waitForStatus(api, failedRun, ['SUCCESS', 'FAILURE']);
    expect(failed).toMatchObject({ status: 'FAILURE', failureReason: 'STEP_FAILURE' });
    expect(control.executions.get('first')).toBe(1);

    const notYet = await api.inject({
      method: 'POST',
      url: `/orchestrator/runs/${failedRun}:reexecute`,
      payload: {},
    });
    expect(notYet.statusCode).toBe(400);
    expect(notYet.json().errors[0].path).toBe('fromFailure');

    control.failSecondStep = false;
    const res = await api.inject({
      method: 'POST',
      url: `/orchestrator/runs/${failedRun}:reexecute`,
      payload: { fromFailure: true },
    });
    expect(res.statusCode).toBe(201);
    const child = res.json();
    expect(child).toMatchObject({
      parentRunId: failedRun,
      rootRunId: failedRun,
      instigatorType: 'reexecution',
      stepKeysToExecute: ['second'],
      tags: { team: 'qa', 'dagster/parent_run_id': failedRun, 'dagster/root_run_id': failedRun },
    });
    expect((await waitForStatus(api, child.runId, ['SUCCESS', 'FAILURE'])).status).toBe('SUCCESS');
    expect(control.executions.get('first')).toBe(1);
    expect(control.executions.get('second')).toBe(2);
    const events = await eventsOf(api, child.runId);
    expect(events.some((e) => e.stepKey === 'first')).toBe(false);
    expect(events.find((e) => e.type === 'ENGINE_EVENT')?.message).toMatch(
      /Reusing the stored outputs of 1 step\(s\): first/,
    );
    expect(events.find((e) => e.type === 'STEP_OUTPUT' && e.stepKey === 'second')?.data).toMatchObject({
      value: 121,
    });

    const again = await api.inject({
      method: 'POST',
      url: `/orchestrator/runs/${child.runId}:reexecute`,
      payload: { fromFailure: true },
    });
    expect(again.statusCode).toBe(409);
    const scratch = await api.inject({
      method: 'POST',
      url: `/orchestrator/runs/${child.runId}:reexecute`,
      payload: { fromFailure: false },
    });
    expect(scratch.statusCode).toBe(201);
    expect(scratch.json()).toMatchObject({ parentRunId: child.runId, rootRunId: failedRun });
    expect((await waitForStatus(api, scratch.json().runId, ['SUCCESS', 'FAILURE'])).status).toBe('SUCCESS');
    expect(control.executions.get('first')).toBe(2);
  });

  it('cancels a queued run at once and refuses to cancel a finished one', async () => {
    const postgres = hub.app.get(PostgresService);
    // Hold the coordinator's lock so the run cannot leave QUEUED while the test cancels it.
    const blocker = await postgres.pool.connect();
    const key = lockKey(postgres.schema, 'coordinator');
    await blocker.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    let runId: string;
    try {
      runId = await launch(api, 'noop_job');
      const cancel = await api.inject({ method: 'POST', url: `/orchestrator/runs/${runId}:cancel` });
      expect(cancel.statusCode).toBe(200);
      expect(cancel.json().status).toBe('CANCELED');
    } finally {
      await blocker.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      blocker.release();
    }
    expect((await eventsOf(api, runId)).map((e) => e.type)).toEqual([
      'RUN_ENQUEUED',
      'RUN_CANCELING',
      'RUN_CANCELED',
    ]);
    const finished = await api.inject({ method: 'POST', url: `/orchestrator/runs/${runId}:cancel` });
    expect(finished.statusCode).toBe(409);
    expect(finished.json().code).toBe('run_finished');
  });

  it('stops a running op through its AbortSignal when cancelled', async () => {
    const runId = await launch(api, 'slow_job', { runConfig: { ops: { wait: { config: { ms: 20_000 } } } } });
    await waitFor('the wait step to start', async () =>
      (await eventsOf(api, runId)).some((e) => e.type === 'STEP_START' && e.stepKey === 'wait'),
    );
    const started = Date.now();
    const res = await api.inject({ method: 'POST', url: `/orchestrator/runs/${runId}:cancel` });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('CANCELING');
    const run = await waitForStatus(api, runId, ['CANCELED', 'SUCCESS', 'FAILURE'], 5000);
    expect(run.status).toBe('CANCELED');
    expect(Date.now() - started).toBeLessThan(3000);
    const events = await eventsOf(api, runId);
    expect(events.find((e) => e.type === 'STEP_FAILURE')).toMatchObject({
      stepKey: 'wait',
      data: { interrupted: true },
    });
    expect(events.some((e) => e.stepKey === 'last')).toBe(false);
  });

  it('runs a schedule tick and catches up missed times, at most ORCH_MAX_CATCHUP_RUNS, once each', async () => {
    const start = await api.inject({ method: 'POST', url: '/orchestrator/schedules/every_minute:start' });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ status: 'RUNNING', cron: '* * * * *', timezone: 'UTC' });
    const { OrchestratorQueues, INSTIGATORS_QUEUE } =
      await import('../src/orchestrator/daemon/orchestrator-queues.js');
    const schedulers = await hub.app.get(OrchestratorQueues).listSchedulers(INSTIGATORS_QUEUE);
    expect(schedulers).toContainEqual({ id: 'schedule.every_minute', pattern: '* * * * *', tz: 'UTC' });

    const postgres = hub.app.get(PostgresService);
    const now = new Date();
    const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    // The daemon was "down" for five and a half minutes.
    await postgres.query(`UPDATE orch_instigators SET last_scheduled_time = $1 WHERE name = 'every_minute'`, [
      new Date(minute.getTime() - 5.5 * 60_000),
    ]);
    const { InstigatorTicker } = await import('../src/orchestrator/daemon/instigator-ticker.js');
    const ticker = hub.app.get(InstigatorTicker);
    expect(await ticker.tickSchedule('every_minute', now)).toBe('success');
    const runs = await api.inject({
      method: 'GET',
      url: '/orchestrator/runs?tag=dagster/schedule_name=every_minute',
    });
    const times = runs
      .json()
      .resources.map((r: { scheduledTime: string }) => r.scheduledTime)
      .sort();
    expect(times).toEqual([2, 1, 0].map((m) => new Date(minute.getTime() - m * 60_000).toISOString()));
    const ticks = await api.inject({ method: 'GET', url: '/orchestrator/schedules/every_minute/ticks' });
    const tick = ticks.json().resources[0];
    expect(tick).toMatchObject({ status: 'SUCCESS', runIds: expect.any(Array) });
    expect(tick.runIds).toHaveLength(3);
    expect(tick.skipReason).toMatch(/3 earlier missed time\(s\) not run/);

    // The same tick delivered again finds nothing due; replaying it from older state creates no duplicate.
    expect(await ticker.tickSchedule('every_minute', now)).toBe('nothing-due');
    await postgres.query(`UPDATE orch_instigators SET last_scheduled_time = $1 WHERE name = 'every_minute'`, [
      new Date(minute.getTime() - 1.5 * 60_000),
    ]);
    expect(await ticker.tickSchedule('every_minute', now)).toBe('skipped');
    const after = await api.inject({
      method: 'GET',
      url: '/orchestrator/runs?tag=dagster/schedule_name=every_minute',
    });
    expect(after.json().resources).toHaveLength(3);

    const stop = await api.inject({ method: 'POST', url: '/orchestrator/schedules/every_minute:stop' });
    expect(stop.json().status).toBe('STOPPED');
    expect(await hub.app.get(OrchestratorQueues).listSchedulers(INSTIGATORS_QUEUE)).not.toContainEqual(
      expect.objectContaining({ id: 'schedule.every_minute' }),
    );
  });

  it('does not advance a sensor cursor after a failing tick', async () => {
    control.sensorShouldFail = false;
    const start = await api.inject({ method: 'POST', url: '/orchestrator/sensors/cursor_sensor:start' });
    expect(start.statusCode).toBe(200);
    const sensorAt = async (): Promise<{
      cursor?: string;
      lastTicks: { status: string; cursorAfter?: string }[];
    }> => (await api.inject({ method: 'GET', url: '/orchestrator/sensors/cursor_sensor' })).json();
    await waitFor('the cursor to reach 1', async () => (await sensorAt()).cursor !== undefined);
    control.sensorShouldFail = true;
    const failed = await waitFor('a failed tick', async () => {
      const ticks = (
        await api.inject({ method: 'GET', url: '/orchestrator/sensors/cursor_sensor/ticks' })
      ).json();
      return ticks.resources.find((t: { status: string }) => t.status === 'FAILURE');
    });
    expect(failed.error.message).toBe('the upstream system is down');
    const frozen = (await sensorAt()).cursor;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await sensorAt()).cursor).toBe(frozen);
    control.sensorShouldFail = false;
    await waitFor('the cursor to reach 3', async () => (await sensorAt()).cursor === '3');
    await api.inject({ method: 'POST', url: '/orchestrator/sensors/cursor_sensor:stop' });
    const runs = await api.inject({
      method: 'GET',
      url: '/orchestrator/runs?tag=dagster/sensor_name=cursor_sensor',
    });
    expect(
      runs
        .json()
        .resources.map((r: { runKey: string }) => r.runKey)
        .sort(),
    ).toEqual(['item-1', 'item-2', 'item-3']);
  });
});
