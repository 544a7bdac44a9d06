import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, bearer, createSiteWithClient, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';

const REGISTRY = fileURLToPath(new URL('./fixtures/registry.test.yaml', import.meta.url));

describe('job-claim sensors in the orchestrator', () => {
  let hub: TestHub;
  let site: string;
  let admin: string;

  beforeAll(async () => {
    const { ORCH_CODE_LOCATIONS: _fixtures, ...env } = FAST_ORCHESTRATOR_ENV;
    hub = await startTestHub({
      env: {
        ...env,
        REGISTRY_PATH: REGISTRY,
        ORCH_SENSOR_INTERVALS: JSON.stringify({ expire_stale_claims: 0.5 }),
      },
    });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    site = (await createSiteWithClient(hub, admin, 'sensor-site', ['test'])).token;
  });
  afterAll(async () => {
    await hub.close();
  });

  it('expire_stale_claims frees a job whose lease ran out, through an expire_claims run', async () => {
    const created = await hub.inject({
      method: 'POST',
      url: '/jobs',
      headers: bearer(site),
      payload: { workflow: { id: 'short-lease' }, config: {} },
    });
    const jobId = created.json<{ id: string }>().id;
    const op = (
      await hub.inject({ method: 'POST', url: `/jobs/${jobId}:claim`, headers: bearer(site) })
    ).json<{ id: string }>();

    const operation = await waitFor(
      'the operation to be expired by the sensor',
      async () => {
        const res = (await hub.inject({ method: 'GET', url: `/operations/${op.id}` })).json<{
          done: boolean;
          error?: { code: string };
        }>();
        return res.done ? res : undefined;
      },
      20_000,
      250,
    );
    expect(operation.error?.code).toBe('DEADLINE_EXCEEDED');
    const job = (await hub.inject({ method: 'GET', url: `/jobs/${jobId}` })).json<{
      status: string;
      claims: { state: string }[];
    }>();
    expect(job.claims[0]?.state).toBe('expired');

    const runs = (
      await hub.inject({ method: 'GET', url: '/orchestrator/runs?job=expire_claims', headers: bearer(admin) })
    ).json<{
      resources: { status: string }[];
    }>();
    expect(runs.resources.length).toBeGreaterThanOrEqual(1);
    await waitFor('the expire_claims run to succeed', async () => {
      const latest = (
        await hub.inject({
          method: 'GET',
          url: '/orchestrator/runs?job=expire_claims',
          headers: bearer(admin),
        })
      ).json<{
        resources: { status: string }[];
      }>();
      return latest.resources.some((r) => r.status === 'SUCCESS') || undefined;
    });
  }, 40_000);
});
