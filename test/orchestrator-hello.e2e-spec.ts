import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, bearer, createUser, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import {
  eventsOf,
  FAST_ORCHESTRATOR_ENV,
  waitForStatus,
  adminClient,
  type ApiClient,
} from './support/orchestrator.js';

describe('orchestrator: hello through the API', () => {
  let hub: TestHub;
  let api: ApiClient;

  beforeAll(async () => {
    hub = await startTestHub({ env: FAST_ORCHESTRATOR_ENV, listen: true });
    api = await adminClient(hub);
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('lists hello with its graph', async () => {
    const res = await api.inject({ method: 'GET', url: '/orchestrator/jobs' });
    expect(res.statusCode).toBe(200);
    const hello = res.json().resources.find((j: { name: string }) => j.name === 'hello');
    expect(hello.graph.nodes.map((n: { name: string }) => n.name)).toEqual([
      'generate_numbers',
      'filter_even_numbers',
      'filter_odd_numbers',
      'sum_even_numbers',
      'sum_odd_numbers',
      'sum_two_sums',
    ]);
    expect(hello.graph.edges).toContainEqual({
      from: { node: 'sum_odd_numbers', output: 'result' },
      to: { node: 'sum_two_sums', input: 'second_number' },
    });
  });

  it('launches hello, runs it to SUCCESS and records every event in order', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/orchestrator/jobs/hello/runs',
      payload: { runConfig: { ops: { generate_numbers: { config: { upTo: 10 } } } }, tags: { team: 'qa' } },
    });
    expect(res.statusCode).toBe(201);
    const launched = res.json();
    expect(launched).toMatchObject({
      jobName: 'hello',
      status: 'QUEUED',
      tags: { team: 'qa', domain: 'numbers' },
    });
    const run = await waitForStatus(api, launched.runId, ['SUCCESS', 'FAILURE']);
    expect(run.status).toBe('SUCCESS');
    const events = await eventsOf(api, launched.runId);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['RUN_ENQUEUED', 'RUN_STARTING', 'RUN_START']);
    expect(types.at(-1)).toBe('RUN_SUCCESS');
    expect(types.filter((t) => t === 'STEP_SUCCESS')).toHaveLength(6);
    const final = events.find((e) => e.type === 'STEP_OUTPUT' && e.stepKey === 'sum_two_sums');
    expect(final?.data).toMatchObject({ output: 'result', value: 55 });
    expect(events.some((e) => e.type === 'LOGS' && e.message === 'the two sums add up to 55')).toBe(true);
    const ids = events.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('refuses bad run config with 400 naming every bad key', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/orchestrator/jobs/hello/runs',
      payload: { runConfig: { ops: { generate_numbers: { config: { upTo: 'ten', extra: 1 } }, nope: {} } } },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('invalid_run_config');
    expect(body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'runConfig.ops.generate_numbers.config.extra',
      'runConfig.ops.generate_numbers.config.upTo',
      'runConfig.ops.nope',
    ]);
  });

  it('needs a token to read and the runs:launch allowance to launch, cancel or start', async () => {
    expect((await hub.inject({ method: 'GET', url: '/orchestrator/runs' })).statusCode).toBe(401);
    expect(
      (await hub.inject({ method: 'POST', url: '/orchestrator/jobs/hello/runs', payload: {} })).statusCode,
    ).toBe(401);
    const adminToken = await passwordToken(hub, ADMIN.username, ADMIN.password);
    const reader = await createUser(hub, adminToken, 'reader');
    const asReader = { authorization: bearer(reader.token).authorization };
    expect(
      (await hub.inject({ method: 'GET', url: '/orchestrator/jobs', headers: asReader })).statusCode,
    ).toBe(200);
    for (const url of ['/orchestrator/jobs/hello/runs', '/orchestrator/schedules/housekeeping_weekly:stop']) {
      const res = await hub.inject({ method: 'POST', url, payload: {}, headers: asReader });
      expect(res.statusCode).toBe(403);
    }
  });

  it('tails a run’s events live as text/event-stream until it finishes', async () => {
    const launched = await api.inject({
      method: 'POST',
      url: '/orchestrator/jobs/slow_job/runs',
      payload: { runConfig: { ops: { wait: { config: { ms: 300 } } } } },
    });
    const runId = launched.json().runId;
    const token = await passwordToken(hub, ADMIN.username, ADMIN.password);
    const res = await fetch(`${hub.url}/orchestrator/runs/${runId}/events`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const names = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(names[0]).toBe('RUN_ENQUEUED');
    expect(names.slice(-2)).toEqual(['RUN_SUCCESS', 'end']);
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids.length).toBe(names.length - 1);

    const resumed = await fetch(`${hub.url}/orchestrator/runs/${runId}/events`, {
      headers: {
        accept: 'text/event-stream',
        authorization: `Bearer ${token}`,
        'last-event-id': String(ids.at(-2)),
      },
    });
    expect([...(await resumed.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1])).toEqual([
      'RUN_SUCCESS',
      'end',
    ]);
  });

  it('filters and pages runs, and answers 404 for unknown runs, jobs and sensors', async () => {
    for (let i = 0; i < 3; i++) {
      await api.inject({
        method: 'POST',
        url: '/orchestrator/jobs/noop_job/runs',
        payload: { tags: { batch: 'b1' } },
      });
    }
    const first = await api.inject({ method: 'GET', url: '/orchestrator/runs?tag=batch=b1&max_page_size=2' });
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.resources).toHaveLength(2);
    expect(page1.next_page_token).toEqual(expect.any(String));
    const second = await api.inject({
      method: 'GET',
      url: `/orchestrator/runs?tag=batch=b1&max_page_size=2&page_token=${page1.next_page_token}`,
    });
    expect(second.json().resources).toHaveLength(1);
    expect(second.json().next_page_token).toBeUndefined();
    const replayed = await api.inject({
      method: 'GET',
      url: `/orchestrator/runs?job=hello&page_token=${page1.next_page_token}`,
    });
    expect(replayed.statusCode).toBe(400);
    const byJob = await api.inject({ method: 'GET', url: '/orchestrator/runs?job=hello&status=SUCCESS' });
    expect(byJob.json().resources.every((r: { jobName: string }) => r.jobName === 'hello')).toBe(true);
    const badStatus = await api.inject({ method: 'GET', url: '/orchestrator/runs?status=DONE' });
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json().errors[0].path).toBe('status');

    for (const url of [
      '/orchestrator/runs/00000000-0000-0000-0000-000000000000',
      '/orchestrator/runs/not-a-uuid',
      '/orchestrator/jobs/nope',
      '/orchestrator/sensors/nope',
      '/orchestrator/schedules/nope/ticks',
    ]) {
      expect((await api.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    const launchUnknown = await api.inject({
      method: 'POST',
      url: '/orchestrator/jobs/nope/runs',
      payload: {},
    });
    expect(launchUnknown.statusCode).toBe(404);
    expect(launchUnknown.json().detail).toMatch(/Known jobs: .*hello/);
    const reserved = await api.inject({
      method: 'POST',
      url: '/orchestrator/jobs/hello/runs',
      payload: { tags: { 'dagster/run_key': 'x' } },
    });
    expect(reserved.statusCode).toBe(400);
  });

  it('lists schedules and sensors with their state', async () => {
    const schedules = (await api.inject({ method: 'GET', url: '/orchestrator/schedules' })).json().resources;
    expect(schedules.find((s: { name: string }) => s.name === 'housekeeping_weekly')).toMatchObject({
      status: 'RUNNING',
      cron: '0 3 * * 0',
      jobName: 'housekeeping',
      nextScheduledTime: expect.any(String),
    });
    const sensors = (await api.inject({ method: 'GET', url: '/orchestrator/sensors' })).json().resources;
    expect(sensors.map((s: { name: string }) => s.name)).toEqual([
      'cursor_sensor',
      'dedup_sensor',
      'latency_sensor',
    ]);
    expect(sensors[0]).toMatchObject({
      status: 'STOPPED',
      minimumIntervalSeconds: 0.2,
      jobNames: ['noop_job'],
    });
  });
});
