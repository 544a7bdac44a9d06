import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { JobClaimsStore } from '../src/jobs/job-claims.store.js';
import { decideClaim } from '../src/jobs/job-state.js';
import { OperationsRepository } from '../src/operations/operations.repository.js';
import { SitesRepository } from '../src/sites/sites.repository.js';
import {
  ADMIN,
  bearer,
  createSiteWithClient,
  createUser,
  grantAllowance,
  passwordToken,
} from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { nmdcId, seed, study } from './support/metadata.js';
import { FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';

const CLAIM_SENSOR = 'claim_and_run_apply_changesheet_jobs';
const METADATA_IN_SENSOR = 'claim_and_run_metadata_in_jobs';
const TRIGGER_SENSOR = 'process_workflow_job_triggers';
const S1 = nmdcId('sty', 1);

interface SiteBody {
  id: string;
  capability_ids: string[];
  requested_capability_ids: string[];
}

describe('site capabilities are granted by an admin, never self-declared', () => {
  let hub: TestHub;
  let admin: string;
  let mallory: string;
  let curator: string;

  const as = (token: string) => ({ headers: bearer(token) });
  const site = async (id: string): Promise<SiteBody> =>
    (await hub.inject({ method: 'GET', url: `/sites/${id}` })).json<SiteBody>();
  const setSensor = async (sensor: string, state: 'start' | 'stop'): Promise<void> => {
    const res = await hub.inject({
      method: 'POST',
      url: `/orchestrator/sensors/${sensor}:${state}`,
      ...as(admin),
    });
    expect(res.statusCode, res.body).toBe(200);
  };

  beforeAll(async () => {
    const { ORCH_CODE_LOCATIONS: _fixtures, ...env } = FAST_ORCHESTRATOR_ENV;
    hub = await startTestHub({
      env: {
        ...env,
        ORCH_SENSOR_INTERVALS: JSON.stringify({
          [CLAIM_SENSOR]: 0.3,
          [TRIGGER_SENSOR]: 0.3,
          [METADATA_IN_SENSOR]: 0.3,
        }),
      },
    });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    mallory = (await createUser(hub, admin, 'mallory')).token;
    curator = (await createUser(hub, admin, 'curator')).token;
    await grantAllowance(hub, admin, 'curator', 'changesheets:submit');
    await seed(hub, { study_set: [study(1)] });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('refuses a hub-internal capability on any other site, by POST or PATCH, even from an admin', async () => {
    const created = await hub.inject({
      method: 'POST',
      url: '/sites',
      ...as(mallory),
      payload: { id: 'mallory-hub', capability_ids: ['metadata-ingest'] },
    });
    expect(created.statusCode, created.body).toBe(403);
    expect(created.json().detail).toMatch(/metadata-ingest.*only.*runtime-hub/);
    expect((await hub.inject({ method: 'GET', url: '/sites/mallory-hub' })).statusCode).toBe(404);

    const mine = await hub.inject({
      method: 'POST',
      url: '/sites',
      ...as(mallory),
      payload: { id: 'mallory' },
    });
    expect(mine.statusCode, mine.body).toBe(201);
    const patched = await hub.inject({
      method: 'PATCH',
      url: '/sites/mallory',
      ...as(mallory),
      payload: { capability_ids: ['metadata-ingest'] },
    });
    expect(patched.statusCode, patched.body).toBe(403);
    const byAdmin = await hub.inject({
      method: 'PATCH',
      url: '/sites/mallory',
      ...as(admin),
      payload: { capability_ids: ['metadata-ingest'] },
    });
    expect(byAdmin.statusCode, byAdmin.body).toBe(403);
    const approved = await hub.inject({
      method: 'POST',
      url: '/sites/mallory:approveCapabilities',
      ...as(admin),
      payload: { capability_ids: ['metadata-ingest'] },
    });
    expect(approved.statusCode, approved.body).toBe(403);
    expect((await site('mallory')).capability_ids).toEqual([]);
  });

  it("records a site admin's capabilities as requested until an admin or a sites:admin holder approves them", async () => {
    const created = await hub.inject({
      method: 'POST',
      url: '/sites',
      ...as(mallory),
      payload: { id: 'mallory-gpu', capability_ids: ['test'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ capability_ids: [], requested_capability_ids: ['test'] });

    const selfApproved = await hub.inject({
      method: 'POST',
      url: '/sites/mallory-gpu:approveCapabilities',
      ...as(mallory),
      payload: {},
    });
    expect(selfApproved.statusCode).toBe(403);
    expect(selfApproved.json().detail).toMatch(/sites:admin/);

    const steward = await createUser(hub, admin, 'steward');
    await grantAllowance(hub, admin, 'steward', 'sites:admin');
    const approved = await hub.inject({
      method: 'POST',
      url: '/sites/mallory-gpu:approveCapabilities',
      ...as(steward.token),
      payload: { capability_ids: ['test'] },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ capability_ids: ['test'], requested_capability_ids: [] });

    // Asking for more keeps what is granted and waits again for the rest; dropping one takes effect at once.
    const more = await hub.inject({
      method: 'PATCH',
      url: '/sites/mallory-gpu',
      ...as(mallory),
      payload: { capability_ids: ['test', 'gpu'] },
    });
    expect(more.json()).toMatchObject({ capability_ids: ['test'], requested_capability_ids: ['gpu'] });
    const denied = await hub.inject({
      method: 'POST',
      url: '/sites/mallory-gpu:denyCapabilities',
      ...as(admin),
      payload: { capability_ids: ['gpu'] },
    });
    expect(denied.json()).toMatchObject({ capability_ids: ['test'], requested_capability_ids: [] });
    const fewer = await hub.inject({
      method: 'PATCH',
      url: '/sites/mallory-gpu',
      ...as(mallory),
      payload: { capability_ids: [] },
    });
    expect(fewer.json()).toMatchObject({ capability_ids: [], requested_capability_ids: [] });

    // An admin's own site holds what it declares.
    const adminSite = await hub.inject({
      method: 'POST',
      url: '/sites',
      ...as(admin),
      payload: { id: 'admin-cluster', capability_ids: ['test'] },
    });
    expect(adminSite.json()).toMatchObject({ capability_ids: ['test'], requested_capability_ids: [] });
  });

  it('keeps hub jobs away from other sites while the hub is busy, and the hub applies the changesheet', async () => {
    const attacker = await createSiteWithClient(hub, mallory, 'mallory-worker', ['test']);
    // A site that held metadata-ingest before grants existed (stored straight into its document).
    const legacy = await createSiteWithClient(hub, admin, 'legacy-ingest');
    await hub.app.get(SitesRepository).update('legacy-ingest', { capability_ids: ['metadata-ingest'] });

    await setSensor(CLAIM_SENSOR, 'stop');
    let objectId: string;
    let jobId: string;
    try {
      const submitted = await hub.inject({
        method: 'POST',
        url: '/metadata/changesheets:submit',
        headers: { ...bearer(curator), 'content-type': 'text/tab-separated-values' },
        payload: `id\taction\tattribute\tvalue\n${S1}\tupdate\tname\tCurated name\n`,
      });
      expect(submitted.statusCode, submitted.body).toBe(202);
      objectId = submitted.json<{ object: { id: string } }>().object.id;
      jobId = await waitFor('the changesheet job', async () => {
        const listed = await hub.inject({
          method: 'GET',
          url: `/jobs?filter=${encodeURIComponent(JSON.stringify({ 'config.object_id': objectId }))}`,
          ...as(admin),
        });
        return listed.json<{ resources: { id: string }[] }>().resources[0]?.id;
      });

      for (const token of [attacker.token, legacy.token]) {
        const visible = await hub.inject({ method: 'GET', url: '/jobs', ...as(token) });
        expect(visible.statusCode).toBe(200);
        expect(visible.json<{ resources: { id: string }[] }>().resources.map((j) => j.id)).not.toContain(
          jobId,
        );
        const claim = await hub.inject({ method: 'POST', url: `/jobs/${jobId}:claim`, ...as(token) });
        expect(claim.statusCode, claim.body).toBe(403);
      }

      // A claim taken before grants existed: its site still cannot post a result for the hub's job.
      const claims = hub.app.get(JobClaimsStore);
      const opId = 'sys0legacyop';
      let claimedAt = new Date();
      let expireTime = new Date();
      await claims.update(jobId, (job, now) => {
        const decision = decideClaim(job, 'legacy-ingest', opId, now, 600);
        if (decision.kind !== 'claim') {
          throw new Error(`could not simulate the old claim: ${decision.kind}`);
        }
        claimedAt = now;
        expireTime = decision.next.claims[opId]!.expire_time;
        return decision.next;
      });
      await hub.app.get(OperationsRepository).insert({
        id: opId,
        done: false,
        expire_time: expireTime,
        metadata: {
          job: { id: jobId, workflow: { id: 'apply-changesheet-1.0.0' }, config: { object_id: objectId } },
          site_id: 'legacy-ingest',
          model: 'job-operation',
        },
        created_at: claimedAt,
        updated_at: claimedAt,
      });
      const faked = await hub.inject({
        method: 'PATCH',
        url: `/operations/${opId}`,
        ...as(legacy.token),
        payload: { done: true, result: { changed_ids: [], txn_id: 'fake' } },
      });
      expect(faked.statusCode, faked.body).toBe(403);
      expect(faked.json().detail).toMatch(/hub/);
      // Let the old claim go, as its lease ending would.
      const released = await hub.inject({
        method: 'POST',
        url: `/jobs/${jobId}:release`,
        ...as(legacy.token),
      });
      expect(released.statusCode, released.body).toBe(200);
    } finally {
      await setSensor(CLAIM_SENSOR, 'start');
    }

    const applied = await waitFor(
      'the hub to apply the changesheet',
      async () => {
        const res = await hub.inject({
          method: 'GET',
          url: `/metadata/changesheets/${objectId}`,
          ...as(curator),
        });
        const body = res.json<{ status: string }>();
        return body.status === 'applied' ? body : undefined;
      },
      60_000,
      200,
    );
    expect(applied.status).toBe('applied');
    const document = await hub.inject({ method: 'GET', url: `/metadata/ids/${S1}` });
    expect(document.json()).toMatchObject({ name: 'Curated name' });
    // The run applies the changesheet first and closes its claim's operation a moment later.
    const doneBy = await waitFor('the hub to close its claim', async () => {
      const job = await hub.inject({ method: 'GET', url: `/jobs/${jobId}` });
      const claims = job.json<{ claims: { site_id: string; state: string }[] }>().claims;
      const done = claims.filter((c) => c.state === 'done').map((c) => c.site_id);
      return done.length > 0 ? done : undefined;
    });
    expect(doneBy).toEqual(['runtime-hub']);
  }, 90_000);

  it('applies no changesheet or JSON submission registered through DRS by someone who may not submit them', async () => {
    const uploader = await createSiteWithClient(hub, mallory, 'mallory-uploader');
    const sheet = `id\taction\tattribute\tvalue\n${S1}\tupdate\tname\tHijacked\n`;
    const upload = await hub.inject({
      method: 'POST',
      url: '/objects:upload',
      headers: { ...bearer(uploader.token), 'content-type': 'multipart/form-data; boundary=XyZ' },
      payload: [
        '--XyZ',
        'Content-Disposition: form-data; name="types"',
        '',
        'metadata-changesheet',
        '--XyZ',
        'Content-Disposition: form-data; name="file"; filename="sheet.tsv"',
        'Content-Type: text/tab-separated-values',
        '',
        sheet,
        '--XyZ--',
        '',
      ].join('\r\n'),
    });
    expect(upload.statusCode, upload.body).toBe(201);
    const objectId = upload.json<{ id: string }>().id;
    const settled = await waitFor(
      'the uploaded sheet to settle',
      async () => {
        const res = await hub.inject({
          method: 'GET',
          url: `/metadata/changesheets/${objectId}`,
          ...as(admin),
        });
        const body = res.json<{ status: string; error?: { code: string; message: string } }>();
        return body.status !== 'pending' ? body : undefined;
      },
      60_000,
      200,
    );
    expect(settled.status).toBe('failed');
    expect(settled.error?.message).toMatch(/site:mallory-uploader.*changesheets:submit/);
    const document = await hub.inject({ method: 'GET', url: `/metadata/ids/${S1}` });
    expect(document.json().name).not.toBe('Hijacked');

    // The same holds for a JSON submission registered as a metadata-in object.
    const S9 = nmdcId('sty', 9);
    const json = await hub.inject({
      method: 'POST',
      url: '/objects:upload',
      headers: { ...bearer(uploader.token), 'content-type': 'multipart/form-data; boundary=XyZ' },
      payload: [
        '--XyZ',
        'Content-Disposition: form-data; name="types"',
        '',
        'metadata-in',
        '--XyZ',
        'Content-Disposition: form-data; name="file"; filename="in.json"',
        'Content-Type: application/json',
        '',
        JSON.stringify({ study_set: [study(9)] }),
        '--XyZ--',
        '',
      ].join('\r\n'),
    });
    expect(json.statusCode, json.body).toBe(201);
    const jsonId = json.json<{ id: string }>().id;
    const job = await waitFor(
      'the metadata-in job to end',
      async () => {
        const listed = await hub.inject({
          method: 'GET',
          url: `/jobs?filter=${encodeURIComponent(JSON.stringify({ 'config.object_id': jsonId }))}`,
          ...as(admin),
        });
        const found = listed.json<{ resources: { status: string }[] }>().resources[0];
        return found && ['done', 'failed'].includes(found.status) ? found : undefined;
      },
      60_000,
      200,
    );
    expect(job.status).toBe('failed');
    expect((await hub.inject({ method: 'GET', url: `/metadata/ids/${S9}` })).statusCode).toBe(404);
  }, 90_000);
});
