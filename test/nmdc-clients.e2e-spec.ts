/**
 * NMDC's own clients against the hub, unchanged: each test replays the exact requests a client method
 * sends (method, path, headers, body) and checks the response fields its callers read. Written from
 * reading the clients: `NmdcRuntimeApi` (nmdc_automation/api/nmdcapi.py, used by the sites' watcher and
 * scheduler) and `RuntimeApiSiteClient` / `RuntimeApiUserClient` (nmdc_runtime/site/resources.py).
 */
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, grantAllowance, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { biosample, dataObject, nmdcId, seed, sequencing, study } from './support/metadata.js';

const NMDC_REGISTRY = fileURLToPath(new URL('../examples/nmdc-registry.yaml', import.meta.url));
const READS_QC = 'Reads QC: v1.0.28';
const ASSEMBLY = 'Metagenome Assembly: v1.0.7-alpha.3';

/** The headers NmdcRuntimeApi sends on every call once it holds a token. */
const siteHeaders = (token: string) => ({
  accept: 'application/json',
  'content-type': 'application/json',
  authorization: `Bearer ${token}`,
});

/** The watcher's unclaimed-jobs filter (watch_nmdc.py, RuntimeApiHandler.get_unclaimed_jobs). */
const unclaimedFilter = (workflows: string[]) => ({
  $and: [
    { 'workflow.id': { $in: workflows } },
    {
      $or: [{ claims: { $size: 0 } }, { claims: { $not: { $elemMatch: { cancelled: { $ne: true } } } } }],
    },
  ],
});

describe('NMDC clients, unchanged', () => {
  let hub: TestHub;
  let admin: string;
  let site: { clientId: string; clientSecret: string; token: string };
  let other: { clientId: string; clientSecret: string; token: string };
  const studyId = nmdcId('sty', 1);
  const sampleId = nmdcId('bsm', 1);
  const readsId = nmdcId('dobj', 1);
  const sequencingId = nmdcId('dgns', 1);

  /** NmdcRuntimeApi.get_token: a form-encoded client_credentials grant. */
  const getToken = async (clientId: string, clientSecret: string) => {
    const res = await hub.inject({
      method: 'POST',
      url: '/token',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      }).toString(),
    });
    return res;
  };
  /** NmdcRuntimeApi.claim_job / release_job: POST with the JSON content type and no body. */
  const postWithoutBody = (token: string, url: string) =>
    hub.inject({
      method: 'POST',
      url,
      headers: { ...siteHeaders(token), 'content-length': '0' },
      payload: '',
    });
  const sendJson = (token: string, method: 'POST' | 'PATCH' | 'PUT', url: string, body: unknown) =>
    hub.inject({ method, url, headers: siteHeaders(token), payload: JSON.stringify(body) });
  /** NmdcRuntimeApi.list_jobs: GET /jobs with max_page_size and a JSON filter, following page tokens. */
  const listJobs = async (token: string, filter: unknown) => {
    const params = new URLSearchParams({ max_page_size: '100', filter: JSON.stringify(filter) });
    const resources: { id: string; workflow: { id: string }; config: Record<string, unknown> }[] = [];
    for (;;) {
      const res = await hub.inject({ method: 'GET', url: `/jobs?${params.toString()}`, headers: siteHeaders(token) });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      resources.push(...body.resources);
      if (!body.next_page_token) {
        return resources;
      }
      params.set('page_token', body.next_page_token);
    }
  };
  /** The scheduler's job record (sched.py, create_job_rec). */
  const jobRecord = (workflowId: string, trigger: string) => ({
    workflow: { id: workflowId },
    config: {
      git_repo: 'https://github.com/microbiomedata/ReadsQC',
      release: 'v1.0.28',
      wdl: 'rqcfilter.wdl',
      activity_id: nmdcId('wfrqc', 1, '.1'),
      activity_set: 'workflow_execution_set',
      was_informed_by: [sequencingId],
      trigger_activity: trigger,
      iteration: 1,
      input_prefix: 'nmdc_rqcfilter',
      inputs: { input_files: ['https://data.example.org/1.fastq.gz'] },
      input_data_objects: [],
    },
    claims: [],
  });
  const createJob = async (workflowId: string, trigger: string) => {
    const res = await sendJson(site.token, 'POST', '/jobs', jobRecord(workflowId, trigger));
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string }>().id;
  };

  beforeAll(async () => {
    hub = await startTestHub({
      env: { ...ADMIN_ENV, TOKEN_RATE_LIMIT: '10000', REGISTRY_PATH: NMDC_REGISTRY },
    });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    site = await createSiteWithClient(hub, admin, 'nersc', ['reads-qc', 'metagenome-assembly']);
    other = await createSiteWithClient(hub, admin, 'emsl', ['reads-qc']);
    await seed(hub, {
      study_set: [study(1)],
      biosample_set: [biosample(1, studyId)],
      data_object_set: [dataObject(1)],
      data_generation_set: [sequencing(1, studyId, sampleId, [readsId])],
    });
  });
  afterAll(async () => {
    await hub.close();
  });

  describe('NmdcRuntimeApi: the watcher and scheduler of a site', () => {
    it('get_token: the token and its lifetime in expires {days, hours, minutes}', async () => {
      const res = await getToken(site.clientId, site.clientSecret);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(typeof body.access_token).toBe('string');
      const seconds =
        (body.expires.days ?? 0) * 86_400 + (body.expires.hours ?? 0) * 3600 + (body.expires.minutes ?? 0) * 60;
      expect(seconds).toBeGreaterThan(60);
    });

    it('runs a job in the watcher order: create, list unclaimed, claim, publish results, close the operation', async () => {
      // Scheduler: create_job with NMDC's workflow id (a space in it) and claims: [].
      const jobId = await createJob(READS_QC, nmdcId('dgns', 1));

      // Watcher: get_unclaimed_jobs lists it.
      const unclaimed = await listJobs(site.token, unclaimedFilter([READS_QC, ASSEMBLY]));
      expect(unclaimed.map((j) => j.id)).toContain(jobId);
      const listed = unclaimed.find((j) => j.id === jobId)!;
      expect(listed.workflow.id).toBe(READS_QC);
      expect(listed.config.trigger_activity).toBe(nmdcId('dgns', 1));

      // claim_job: Content-Type application/json and no body; the caller reads `id` (409 means claimed).
      const claim = await postWithoutBody(site.token, `/jobs/${jobId}:claim`);
      expect(claim.statusCode, claim.body).toBe(200);
      const opId = claim.json<{ id: string }>().id;
      expect(typeof opId).toBe('string');
      // NMDC's lease: the watcher never heartbeats, so the claim holds for 30 days.
      const expireTime = new Date(claim.json<{ expire_time: string }>().expire_time).getTime();
      expect(expireTime).toBeGreaterThan(Date.now() + 29 * 86_400_000);

      // The claimed job is no longer unclaimed, and carries the claim as NMDC stores it.
      expect((await listJobs(site.token, unclaimedFilter([READS_QC]))).map((j) => j.id)).not.toContain(jobId);
      const job = (await hub.inject({ method: 'GET', url: `/jobs/${jobId}`, headers: siteHeaders(site.token) })).json();
      expect(job.claims).toEqual([expect.objectContaining({ op_id: opId, site_id: 'nersc' })]);
      expect(job.claims[0]).not.toHaveProperty('cancelled');

      // post_objects → post_workflow_executions: needs json:submit, granted to the site's client id.
      const executions = {
        workflow_execution_set: [
          {
            id: nmdcId('wfrqc', 1, '.1'),
            type: 'nmdc:ReadQcAnalysis',
            name: 'Read QC for sequencing 1',
            has_input: [readsId],
            has_output: [nmdcId('dobj', 2)],
            was_informed_by: [sequencingId],
            started_at_time: '2026-01-01T00:00:00Z',
            ended_at_time: '2026-01-01T01:00:00Z',
            git_url: 'https://github.com/microbiomedata/ReadsQC',
            version: 'v1.0.28',
            execution_resource: 'NERSC-Perlmutter',
            processing_institution: 'NMDC',
          },
        ],
        data_object_set: [dataObject(2, { data_object_type: 'Filtered Sequencing Reads' })],
      };
      const refused = await sendJson(site.token, 'POST', '/workflows/workflow_executions', executions);
      expect(refused.statusCode).toBe(403);
      await grantAllowance(hub, admin, site.clientId, 'json:submit');
      const published = await sendJson(site.token, 'POST', '/workflows/workflow_executions', executions);
      expect(published.statusCode, published.body).toBe(200);
      expect(published.json()).toEqual({ message: 'Inserted 2 documents' });
      const stored = await hub.inject({ method: 'GET', url: `/nmdcschema/ids/${nmdcId('wfrqc', 1, '.1')}` });
      expect(stored.json()).toMatchObject({ type: 'nmdc:ReadQcAnalysis', was_informed_by: [sequencingId] });

      // update_op(opid, done=True, meta=...): reads the operation and PATCHes its metadata back.
      const current = await hub.inject({ method: 'GET', url: `/operations/${opId}`, headers: siteHeaders(site.token) });
      expect(current.statusCode).toBe(200);
      const metadata = { ...current.json().metadata, extra: { jaws_jobid: '1234', last_status: 'Succeeded' } };
      const patched = await sendJson(site.token, 'PATCH', `/operations/${opId}`, { done: true, metadata });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json()).toMatchObject({ id: opId, done: true, metadata: { extra: { jaws_jobid: '1234' } } });
      expect((await hub.inject({ method: 'GET', url: `/jobs/${jobId}` })).json().status).toBe('done');

      // Changing the protected metadata is still refused.
      const jobId2 = await createJob(READS_QC, nmdcId('dgns', 2));
      const op2 = (await postWithoutBody(site.token, `/jobs/${jobId2}:claim`)).json<{ id: string }>().id;
      const op2Doc = (await hub.inject({ method: 'GET', url: `/operations/${op2}` })).json();
      const changed = await sendJson(site.token, 'PATCH', `/operations/${op2}`, {
        metadata: { ...op2Doc.metadata, site_id: 'emsl' },
      });
      expect(changed.statusCode).toBe(422);
    });

    it('release_job: no body; the released job is unclaimed again and its claim carries cancelled: true', async () => {
      const jobId = await createJob(READS_QC, nmdcId('dgns', 3));
      const opId = (await postWithoutBody(site.token, `/jobs/${jobId}:claim`)).json<{ id: string }>().id;
      const released = await postWithoutBody(site.token, `/jobs/${jobId}:release`);
      expect(released.statusCode, released.body).toBe(200);
      expect(released.json().claims).toEqual([
        expect.objectContaining({ op_id: opId, site_id: 'nersc', cancelled: true, done: true }),
      ]);
      // "all claims cancelled" counts as unclaimed for the watcher, so another site may take it.
      expect((await listJobs(other.token, unclaimedFilter([READS_QC]))).map((j) => j.id)).toContain(jobId);
      const taken = await postWithoutBody(other.token, `/jobs/${jobId}:claim`);
      expect(taken.statusCode).toBe(200);
      expect((await listJobs(other.token, unclaimedFilter([READS_QC]))).map((j) => j.id)).not.toContain(jobId);

      // release_job of an unknown job: 404, which the caller reads as "not found or already released".
      expect((await postWithoutBody(site.token, '/jobs/sys0nosuch000:release')).statusCode).toBe(404);
      // Bulk release skips unknown ids, as NMDC does.
      const bulk = await sendJson(other.token, 'POST', '/jobs/release', { job_ids: [jobId, 'sys0nosuch000'] });
      expect(bulk.statusCode, bulk.body).toBe(200);
      expect(bulk.json().map((j: { id: string }) => j.id)).toEqual([jobId]);
    });

    it('update_op with a result shaped like an error fails the claim, as NMDC models it', async () => {
      const jobId = await createJob(ASSEMBLY, nmdcId('dgns', 4));
      const opId = (await postWithoutBody(site.token, `/jobs/${jobId}:claim`)).json<{ id: string }>().id;
      const res = await sendJson(site.token, 'PATCH', `/operations/${opId}`, {
        done: true,
        result: { code: 'FAILED', message: 'assembly ran out of memory' },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ done: true, result: { code: 'FAILED' } });
      expect((await hub.inject({ method: 'GET', url: `/jobs/${jobId}` })).json().status).toBe('failed');
    });

    it('list_from_collection: /nmdcschema with a JSON filter, a quoted projection and big pages', async () => {
      // get_activity_id: projection "id, started_at_time" passed through json.dumps.
      const params = new URLSearchParams({
        max_page_size: '1000',
        filter: JSON.stringify({ was_informed_by: sequencingId, type: 'nmdc:ReadQcAnalysis' }),
        projection: JSON.stringify('id, started_at_time'),
      });
      const res = await hub.inject({
        method: 'GET',
        url: `/nmdcschema/workflow_execution_set?${params.toString()}`,
        headers: siteHeaders(site.token),
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().resources).toEqual([
        { id: nmdcId('wfrqc', 1, '.1'), started_at_time: '2026-01-01T00:00:00Z' },
      ]);
      // get_biosamples_for_study: max_page_size=10000.
      const samples = await hub.inject({
        method: 'GET',
        url: `/nmdcschema/biosample_set?${new URLSearchParams({
          filter: JSON.stringify({ associated_studies: studyId }),
          max_page_size: '10000',
        }).toString()}`,
      });
      expect(samples.statusCode, samples.body).toBe(200);
      expect(samples.json().resources.map((d: { id: string }) => d.id)).toEqual([sampleId]);
      expect((await hub.inject({ method: 'GET', url: `/nmdcschema/study_set/${studyId}` })).json()).toMatchObject({
        id: studyId,
      });
      expect(
        (await hub.inject({ method: 'GET', url: `/nmdcschema/ids/${sampleId}/collection-name` })).json(),
      ).toEqual({ id: sampleId, collection_name: 'biosample_set' });
      expect((await hub.inject({ method: 'GET', url: '/nmdcschema/users' })).statusCode).toBe(400);
    });

    it('create_object, get_object, set_type, bump_time: the object fields NMDC sends', async () => {
      const sha = 'ab'.repeat(32);
      const created = await sendJson(site.token, 'POST', '/objects', {
        aliases: null,
        description: '{"activity": "x"}',
        mime_type: 'application/gzip',
        name: 'contigs.fna.gz',
        access_methods: [
          { access_id: null, access_url: { url: 'https://data.example.org/contigs.fna.gz' }, region: null, type: 'https' },
        ],
        checksums: [{ checksum: sha, type: 'sha256' }],
        contents: null,
        created_time: '2026-01-01T10:00:00.123456',
        size: 1234,
        updated_time: null,
        version: null,
        id: sha,
        self_uri: 'todo',
      });
      expect(created.statusCode, created.body).toBe(201);
      const objectId = created.json<{ id: string }>().id;
      const got = await hub.inject({ method: 'GET', url: `/objects/${objectId}`, headers: siteHeaders(site.token) });
      expect(got.json()).toMatchObject({ id: objectId, description: '{"activity": "x"}' });
      const typed = await sendJson(site.token, 'PUT', `/objects/${objectId}/types`, ['metadata-in']);
      expect(typed.statusCode, typed.body).toBe(200);
      const bumped = await sendJson(site.token, 'PATCH', `/objects/${objectId}`, {
        created_time: '2026-02-01T10:00:00.000000',
      });
      expect(bumped.statusCode, bumped.body).toBe(200);
    });
  });
});
