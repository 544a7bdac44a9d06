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
    hub = await startTestHub({ env: FAST_ORCHESTRATOR_ENV });
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
});
