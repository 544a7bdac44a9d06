import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { OperationsService } from '../src/operations/operations.service.js';
import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';

const REGISTRY = fileURLToPath(new URL('./fixtures/registry.test.yaml', import.meta.url));

describe('job-claim API', () => {
  let hub: TestHub;
  let admin: string;
  let siteA: string;
  let siteB: string;

  const createJob = async (
    token: string,
    workflow = 'test',
    config: Record<string, unknown> = {},
  ): Promise<string> => {
    const res = await hub.inject({
      method: 'POST',
      url: '/jobs',
      headers: bearer(token),
      payload: { workflow: { id: workflow }, config },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string }>().id;
  };
  const claim = (token: string, jobId: string) =>
    hub.inject({ method: 'POST', url: `/jobs/${jobId}:claim`, headers: bearer(token) });
  const patchOp = (token: string, opId: string, payload: unknown) =>
    hub.inject({
      method: 'PATCH',
      url: `/operations/${opId}`,
      headers: bearer(token),
      payload: payload as Record<string, unknown>,
    });
  const getJob = async (jobId: string) => (await hub.inject({ method: 'GET', url: `/jobs/${jobId}` })).json();

  beforeAll(async () => {
    hub = await startTestHub({ env: { ...ADMIN_ENV, TOKEN_RATE_LIMIT: '10000', REGISTRY_PATH: REGISTRY } });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    siteA = (await createSiteWithClient(hub, admin, 'site-a', ['test'])).token;
    siteB = (await createSiteWithClient(hub, admin, 'site-b', ['test'])).token;
  });
  afterAll(async () => {
    await hub.close();
  });

  it('serves the registries publicly', async () => {
    const workflows = (await hub.inject({ method: 'GET', url: '/workflows' })).json();
    expect(workflows.map((w: { id: string }) => w.id)).toContain('apply-changesheet-1.0.0');
    const wf = (await hub.inject({ method: 'GET', url: '/workflows/short-lease' })).json();
    expect(wf).toMatchObject({
      id: 'short-lease',
      lease_seconds: 2,
      parallel_claims: false,
      capability_ids: ['test'],
    });
    expect((await hub.inject({ method: 'GET', url: '/workflows/nope' })).statusCode).toBe(404);
    const types = (
      await hub.inject({ method: 'GET', url: '/workflows/apply-changesheet-1.0.0/object_types' })
    ).json();
    expect(types.map((t: { id: string }) => t.id)).toEqual(['metadata-changesheet']);
    const byType = (await hub.inject({ method: 'GET', url: '/object_types/metadata-in/workflows' })).json();
    expect(byType.map((w: { id: string }) => w.id)).toEqual(['metadata-in-1.0.0']);
    const triggers = (await hub.inject({ method: 'GET', url: '/triggers' })).json();
    expect(triggers).toContainEqual(
      expect.objectContaining({ id: 'test--test', object_type_id: 'test', workflow_id: 'test' }),
    );
    expect((await hub.inject({ method: 'GET', url: '/triggers/test--test' })).statusCode).toBe(200);
    expect((await hub.inject({ method: 'GET', url: '/capabilities/gpu' })).json()).toMatchObject({
      id: 'gpu',
      name: 'GPU',
    });
    expect((await hub.inject({ method: 'GET', url: '/capabilities' })).json()).toHaveLength(3);
  });

  it('runs the whole loop for two sites: create, list, claim, heartbeat, result', async () => {
    const jobId = await createJob(siteA, 'test', { input: 'x' });
    const listedForB = (await hub.inject({ method: 'GET', url: '/jobs', headers: bearer(siteB) })).json();
    expect(listedForB.resources.map((j: { id: string }) => j.id)).toContain(jobId);

    const claimed = await claim(siteA, jobId);
    expect(claimed.statusCode).toBe(200);
    const op = claimed.json();
    expect(op).toMatchObject({
      done: false,
      metadata: {
        job: { id: jobId, workflow: { id: 'test' }, config: { input: 'x' } },
        site_id: 'site-a',
        model: 'job-operation',
      },
    });
    expect(op).not.toHaveProperty('result');
    expect(new Date(op.expire_time).getTime()).toBeGreaterThan(Date.now() + 3500 * 1000);

    const again = await claim(siteA, jobId);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(op.id);

    const conflict = await claim(siteB, jobId);
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ code: 'already_claimed', operation_id: op.id });
    expect(conflict.json().detail).toContain(op.id);
    const listedAgain = (await hub.inject({ method: 'GET', url: '/jobs', headers: bearer(siteB) })).json();
    expect(listedAgain.resources.map((j: { id: string }) => j.id)).not.toContain(jobId);
    expect((await getJob(jobId)).status).toBe('claimed');

    const beat1 = await patchOp(siteA, op.id, { metadata: { progress: 0.5 } });
    expect(beat1.statusCode).toBe(200);
    expect(new Date(beat1.json().expire_time).getTime()).toBeGreaterThanOrEqual(
      new Date(op.expire_time).getTime(),
    );
    const beat2 = await patchOp(siteA, op.id, { metadata: { stage: 'assembly' } });
    expect(beat2.json().metadata).toMatchObject({
      progress: 0.5,
      stage: 'assembly',
      site_id: 'site-a',
      model: 'job-operation',
    });

    expect((await patchOp(siteB, op.id, { metadata: { evil: true } })).statusCode).toBe(403);

    const done = await patchOp(siteA, op.id, { done: true, result: { outputs: ['sys0out1'] } });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ done: true, result: { outputs: ['sys0out1'] } });
    const job = await getJob(jobId);
    expect(job.status).toBe('done');
    expect(job.claims).toEqual([expect.objectContaining({ op_id: op.id, site_id: 'site-a', state: 'done' })]);

    const reopen = await patchOp(siteA, op.id, { done: false });
    expect(reopen.statusCode).toBe(409);
    expect((await claim(siteB, jobId)).statusCode).toBe(409);
    const fetched = (await hub.inject({ method: 'GET', url: `/operations/${op.id}` })).json();
    expect(fetched).toMatchObject({ id: op.id, done: true });
  });

  it('records a failure on the claim and lets another site claim the job', async () => {
    const jobId = await createJob(siteA);
    const op = (await claim(siteA, jobId)).json();
    const failed = await patchOp(siteA, op.id, {
      done: true,
      error: { code: 'OOM', message: 'out of memory', details: { rss: 123 } },
    });
    expect(failed.statusCode).toBe(200);
    expect(failed.json().error).toEqual({ code: 'OOM', message: 'out of memory', details: { rss: 123 } });
    expect((await getJob(jobId)).status).toBe('failed');
    const retry = await claim(siteB, jobId);
    expect(retry.statusCode).toBe(200);
    expect((await getJob(jobId)).status).toBe('claimed');
  });

  it('keys jobs, operations and sites by id', async () => {
    const mongo = hub.app.get(MongoService);
    const fresh = await createJob(siteA);
    expect(await mongo.collection('jobs').countDocuments({ _id: fresh as never })).toBe(1);
    const claimed = await claim(siteB, fresh);
    expect(claimed.statusCode, claimed.body).toBe(200);
    const opId = claimed.json<{ id: string }>().id;
    expect(await mongo.collection('operations').countDocuments({ _id: opId as never })).toBe(1);
    expect(await mongo.collection('sites').countDocuments({ _id: 'site-b' as never })).toBe(1);
  });

  it('refuses a claim without the capabilities (403) and an unknown job (404)', async () => {
    const jobId = await createJob(siteA, 'gpu-only');
    const res = await claim(siteA, jobId);
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toContain('gpu');
    const listed = (await hub.inject({ method: 'GET', url: '/jobs', headers: bearer(siteA) })).json();
    expect(listed.resources.map((j: { id: string }) => j.id)).not.toContain(jobId);
    expect((await claim(siteA, 'sys0nosuch000')).statusCode).toBe(404);
    expect(
      (await hub.inject({ method: 'POST', url: `/jobs/${jobId}:claim`, headers: bearer(admin) })).statusCode,
    ).toBe(403);
  });

  it('validates job creation', async () => {
    const unknown = await hub.inject({
      method: 'POST',
      url: '/jobs',
      headers: bearer(siteA),
      payload: { workflow: { id: 'nope' }, config: {} },
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors).toEqual([{ path: 'workflow.id', message: 'unknown workflow' }]);
    const noConfig = await hub.inject({
      method: 'POST',
      url: '/jobs',
      headers: bearer(siteA),
      payload: { workflow: { id: 'test' } },
    });
    expect(noConfig.statusCode).toBe(400);
    expect(noConfig.json().errors[0].path).toBe('config');
    const byUser = await hub.inject({
      method: 'POST',
      url: '/jobs',
      headers: bearer(admin),
      payload: { workflow: { id: 'test' }, config: {} },
    });
    expect(byUser.statusCode).toBe(403);
    expect(
      (await hub.inject({ method: 'POST', url: '/jobs', payload: { workflow: { id: 'test' }, config: {} } }))
        .statusCode,
    ).toBe(401);
  });

  it('names the field of a malformed PATCH', async () => {
    const jobId = await createJob(siteA);
    const op = (await claim(siteA, jobId)).json();
    const cases: Array<[unknown, number, string]> = [
      [{ done: 'yes' }, 400, 'done'],
      [{ metadata: 'progress' }, 400, 'metadata'],
      [{ metadata: { site_id: 'site-b' } }, 422, 'metadata.site_id'],
      [{ metadata: { job: {} } }, 422, 'metadata.job'],
      [{ done: true, error: { message: 'no code' } }, 400, 'error.code'],
      [{ done: true, result: 1, error: { code: 'X', message: 'y' } }, 422, 'result'],
      [{ done: false, result: 1 }, 422, 'done'],
      [{ unknown: 1 }, 400, 'unknown'],
    ];
    for (const [payload, status, path] of cases) {
      const res = await patchOp(siteA, op.id, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await hub.inject({ method: 'GET', url: `/operations/${op.id}` })).json().done).toBe(false);
  });

  it('releases a job so it can be claimed again, alone or in bulk', async () => {
    const jobId = await createJob(siteA);
    const op = (await claim(siteA, jobId)).json();
    const released = await hub.inject({
      method: 'POST',
      url: `/jobs/${jobId}:release`,
      headers: bearer(siteA),
    });
    expect(released.statusCode).toBe(200);
    expect(released.json().status).toBe('unclaimed');
    expect(released.json().claims[0]).toMatchObject({ op_id: op.id, state: 'cancelled' });
    expect((await hub.inject({ method: 'GET', url: `/operations/${op.id}` })).json()).toMatchObject({
      done: true,
      cancelled: true,
    });
    expect((await claim(siteB, jobId)).statusCode).toBe(200);

    const a = await createJob(siteA);
    const b = await createJob(siteA);
    await claim(siteA, a);
    await claim(siteA, b);
    const unknown = await hub.inject({
      method: 'POST',
      url: '/jobs/release',
      headers: bearer(siteA),
      payload: { job_ids: [a, 'sys0nosuch000'] },
    });
    // Unknown ids are skipped, as NMDC does; the known one is released.
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json().map((j: { id: string }) => j.id)).toEqual([a]);
    expect((await getJob(a)).status).toBe('unclaimed');
    await claim(siteA, a);
    const bulk = await hub.inject({
      method: 'POST',
      url: '/jobs/release',
      headers: bearer(siteA),
      payload: { job_ids: [a, b, a] },
    });
    expect(bulk.statusCode).toBe(200);
    expect(bulk.json().map((j: { status: string }) => j.status)).toEqual(['unclaimed', 'unclaimed']);
  });

  it('frees the job when a lease expires', async () => {
    const jobId = await createJob(siteA, 'short-lease');
    const op = (await claim(siteA, jobId)).json();
    await new Promise((resolve) => setTimeout(resolve, 2300));
    expect((await getJob(jobId)).status).toBe('unclaimed');
    const late = await patchOp(siteA, op.id, { metadata: { progress: 1 } });
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('lease_expired');
    const expiredOp = (await hub.inject({ method: 'GET', url: `/operations/${op.id}` })).json();
    expect(expiredOp).toMatchObject({ done: true, error: { code: 'DEADLINE_EXCEEDED' } });
    const taken = await claim(siteB, jobId);
    expect(taken.statusCode).toBe(200);
    expect((await getJob(jobId)).claims.map((c: { state: string }) => c.state)).toEqual(['expired', 'open']);
  });

  it('sweeps expired leases that nobody touched', async () => {
    const jobId = await createJob(siteA, 'short-lease');
    const op = (await claim(siteA, jobId)).json();
    await new Promise((resolve) => setTimeout(resolve, 2300));
    const expired = await hub.app.get(OperationsService).expireStale();
    expect(expired).toContain(op.id);
    expect((await getJob(jobId)).claims[0].state).toBe('expired');
  });

  it('lets several sites hold claims when the workflow allows parallel claims', async () => {
    const jobId = await createJob(siteA, 'fan-out');
    const a = await claim(siteA, jobId);
    const b = await claim(siteB, jobId);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(a.json().id).not.toBe(b.json().id);
  });

  it('gives exactly one of 64 concurrent claimers the job, 20 times over', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 64; i++) {
      tokens.push((await createSiteWithClient(hub, admin, `race-${i}`, ['test'])).token);
    }
    for (let round = 0; round < 20; round++) {
      const jobId = await createJob(siteA);
      const answers = await Promise.all(tokens.map((token) => claim(token, jobId)));
      const statuses = answers.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(63);
      const winner = answers.find((r) => r.statusCode === 200)!.json();
      const job = await getJob(jobId);
      expect(job.claims).toHaveLength(1);
      expect(job.claims[0].op_id).toBe(winner.id);
      for (const loser of answers.filter((r) => r.statusCode === 409)) {
        expect(loser.json().operation_id).toBe(winner.id);
      }
    }
  }, 120_000);
});
