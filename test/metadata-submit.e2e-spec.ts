import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, bearer, createUser, grantAllowance, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { biosample, nmdcId, seed, study } from './support/metadata.js';
import { FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';

const SENSOR = 'claim_and_run_metadata_in_jobs';

interface Accepted {
  object_id: string;
  job_id: string;
  counts: Record<string, number>;
}

interface Operation {
  id: string;
  done: boolean;
  result?: unknown;
  error?: { code: string; message: string; details?: unknown };
}

describe('JSON submission (POST /metadata/json:submit) applied through the orchestrator', () => {
  let hub: TestHub;
  let admin: string;
  let submitter: string;
  let outsider: string;

  const submit = (token: string, payload: unknown) =>
    hub.inject({
      method: 'POST',
      url: '/metadata/json:submit',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });

  /** The operation of the hub's claim on a job, once that operation is done. */
  const finishedOperation = (jobId: string): Promise<Operation> =>
    waitFor(
      `the operation of job ${jobId} to finish`,
      async () => {
        const job = (await hub.inject({ method: 'GET', url: `/jobs/${jobId}` })).json<{
          claims: { op_id: string; site_id: string }[];
        }>();
        const claim = job.claims.find((c) => c.site_id === hub.config.auth.hubSiteId);
        if (!claim) {
          return undefined;
        }
        const operation = (
          await hub.inject({ method: 'GET', url: `/operations/${claim.op_id}`, headers: bearer(admin) })
        ).json<Operation>();
        return operation.done ? operation : undefined;
      },
      60_000,
      250,
    );

  const setSensor = async (state: 'start' | 'stop'): Promise<void> => {
    const res = await hub.inject({
      method: 'POST',
      url: `/orchestrator/sensors/${SENSOR}:${state}`,
      headers: bearer(admin),
    });
    expect(res.statusCode).toBe(200);
  };

  beforeAll(async () => {
    const { ORCH_CODE_LOCATIONS: _fixtures, ...env } = FAST_ORCHESTRATOR_ENV;
    hub = await startTestHub({
      env: { ...env, ORCH_SENSOR_INTERVALS: JSON.stringify({ [SENSOR]: 0.5 }) },
    });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    submitter = (await createUser(hub, admin, 'submitter')).token;
    outsider = (await createUser(hub, admin, 'outsider')).token;
    await grantAllowance(hub, admin, 'submitter', 'json:submit');
    await seed(hub, { study_set: [study(1)] });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('needs a token holding the json:submit allowance', async () => {
    const payload = { study_set: [study(2)] };
    expect((await submit(outsider, payload)).statusCode).toBe(403);
    const anonymous = await hub.inject({ method: 'POST', url: '/metadata/json:submit', payload });
    expect(anonymous.statusCode).toBe(401);
  });

  it('accepts 1,000 documents with 202, stores them as a metadata-in object, and applies them through the job', async () => {
    const payload = {
      study_set: [study(2)],
      biosample_set: Array.from({ length: 999 }, (_, i) =>
        biosample(i + 1, nmdcId('sty', i % 2 === 0 ? 1 : 2)),
      ),
    };
    const res = await submit(submitter, payload);
    expect(res.statusCode).toBe(202);
    const accepted = res.json<Accepted>();
    expect(accepted).toMatchObject({ counts: { study_set: 1, biosample_set: 999 } });

    const object = await hub.inject({
      method: 'GET',
      url: `/objects/${accepted.object_id}`,
      headers: bearer(admin),
    });
    expect(object.statusCode).toBe(200);
    expect(object.json()).toMatchObject({ types: ['metadata-in'], mime_type: 'application/json' });
    const job = (await hub.inject({ method: 'GET', url: `/jobs/${accepted.job_id}` })).json();
    expect(job).toMatchObject({
      workflow: { id: 'metadata-in-1.0.0' },
      config: { object_id: accepted.object_id },
    });

    const operation = await finishedOperation(accepted.job_id);
    expect(operation.error).toBeUndefined();
    expect(operation.result).toEqual({
      object_id: accepted.object_id,
      collections: {
        study_set: { inserted: 1, unchanged: 0 },
        biosample_set: { inserted: 999, unchanged: 0 },
      },
    });
    const done = (await hub.inject({ method: 'GET', url: `/jobs/${accepted.job_id}` })).json();
    expect(done.status).toBe('done');

    const collections = (await hub.inject({ method: 'GET', url: '/metadata/collections' })).json();
    const counts = Object.fromEntries(
      collections.resources.map((c: { name: string; count: number }) => [c.name, c.count]),
    );
    expect(counts).toMatchObject({ study_set: 2, biosample_set: 999 });
    const stored = await hub.inject({ method: 'GET', url: `/metadata/ids/${nmdcId('bsm', 999)}` });
    expect(stored.json()).toEqual(payload.biosample_set[998]);

    const again = await submit(submitter, payload);
    expect(again.statusCode).toBe(422);
    expect(again.json().errors[0].message).toMatch(/already exists in study_set/);
  }, 90_000);

  it('refuses an invalid submission with 422 and JSON pointers, storing nothing', async () => {
    const before = (await hub.inject({ method: 'GET', url: '/objects', headers: bearer(admin) })).json()
      .resources.length;
    const res = await submit(submitter, {
      biosample_set: [{ ...biosample(5000, nmdcId('sty', 404)), env_medium: 'soil' }],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ valid: false, code: 'schema_invalid' });
    expect(res.json().errors).toEqual([{ path: '/biosample_set/0/env_medium', message: 'must be object' }]);
    const after = (await hub.inject({ method: 'GET', url: '/objects', headers: bearer(admin) })).json()
      .resources.length;
    expect(after).toBe(before);
  });

  it('reports on the operation when a submission became invalid before the job ran', async () => {
    await seed(hub, { study_set: [study(30)] });
    await setSensor('stop');
    let accepted: Accepted;
    try {
      const res = await submit(submitter, { biosample_set: [biosample(7000, nmdcId('sty', 30))] });
      expect(res.statusCode).toBe(202);
      accepted = res.json<Accepted>();
      const removed = await hub.inject({
        method: 'POST',
        url: '/queries:run',
        headers: bearer(admin),
        payload: { delete: 'study_set', deletes: [{ q: { id: nmdcId('sty', 30) }, limit: 1 }] },
      });
      expect(removed.json().n).toBe(1);
    } finally {
      await setSensor('start');
    }
    const operation = await finishedOperation(accepted.job_id);
    expect(operation.error).toMatchObject({
      code: 'schema_invalid',
      details: [
        {
          path: '/biosample_set/0/associated_studies/0',
          message: `refers to ${nmdcId('sty', 30)}, which is neither in this submission nor stored in study_set`,
        },
      ],
    });
    const job = (await hub.inject({ method: 'GET', url: `/jobs/${accepted.job_id}` })).json();
    expect(job.status).toBe('failed');
    expect(
      (await hub.inject({ method: 'GET', url: `/metadata/ids/${nmdcId('bsm', 7000)}` })).statusCode,
    ).toBe(404);
  }, 90_000);
});
