/**
 * NMDC's own clients against the hub, unchanged: each test replays the exact requests a client method
 * sends (method, path, headers, body) and checks the response fields its callers read. Written from
 * reading the clients: `NmdcRuntimeApi` (nmdc_automation/api/nmdcapi.py, used by the sites' watcher and
 * scheduler) and `RuntimeApiSiteClient` / `RuntimeApiUserClient` (nmdc_runtime/site/resources.py).
 */
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ADMIN,
  ADMIN_ENV,
  bearer,
  createSiteWithClient,
  grantAllowance,
  passwordToken,
} from './support/auth.js';
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
    const resources: {
      id: string;
      workflow: { id: string };
      config: Record<string, unknown>;
      claims: unknown[];
    }[] = [];
    for (;;) {
      const res = await hub.inject({
        method: 'GET',
        url: `/jobs?${params.toString()}`,
        headers: siteHeaders(token),
      });
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
      biosample_set: [biosample(1, studyId, { gold_biosample_identifiers: ['gold:Gb0115231'] })],
      data_object_set: [dataObject(1)],
      data_generation_set: [
        {
          ...sequencing(1, studyId, sampleId, [readsId]),
          gold_sequencing_project_identifiers: ['gold:Gp0108335'],
        },
      ],
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
        (body.expires.days ?? 0) * 86_400 +
        (body.expires.hours ?? 0) * 3600 +
        (body.expires.minutes ?? 0) * 60;
      expect(seconds).toBeGreaterThan(60);
    });

    it('runs a job in the watcher order: create, list unclaimed, claim, publish results, close the operation', async () => {
      // Scheduler: create_job with NMDC's workflow id (a space in it) and claims: [].
      const jobId = await createJob(READS_QC, nmdcId('dgns', 1));

      // Scheduler: get_existing_jobs lists the jobs of a workflow's git repository and reads config and claims.
      const existing = await listJobs(site.token, {
        'config.git_repo': 'https://github.com/microbiomedata/ReadsQC',
      });
      expect(existing.find((j) => j.id === jobId)).toMatchObject({
        config: { trigger_activity: nmdcId('dgns', 1), release: 'v1.0.28' },
        claims: [],
      });

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
      const job = (
        await hub.inject({ method: 'GET', url: `/jobs/${jobId}`, headers: siteHeaders(site.token) })
      ).json();
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
      const current = await hub.inject({
        method: 'GET',
        url: `/operations/${opId}`,
        headers: siteHeaders(site.token),
      });
      expect(current.statusCode).toBe(200);
      const metadata = {
        ...current.json().metadata,
        extra: { jaws_jobid: '1234', last_status: 'Succeeded' },
      };
      const patched = await sendJson(site.token, 'PATCH', `/operations/${opId}`, { done: true, metadata });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json()).toMatchObject({
        id: opId,
        done: true,
        metadata: { extra: { jaws_jobid: '1234' } },
      });
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
      expect((await listJobs(other.token, unclaimedFilter([READS_QC]))).map((j) => j.id)).not.toContain(
        jobId,
      );

      // release_job of an unknown job: 404, which the caller reads as "not found or already released".
      expect((await postWithoutBody(site.token, '/jobs/sys0nosuch000:release')).statusCode).toBe(404);
      // Bulk release skips unknown ids, as NMDC does.
      const bulk = await sendJson(other.token, 'POST', '/jobs/release', {
        job_ids: [jobId, 'sys0nosuch000'],
      });
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

    it('run_query: the manifest pipelines ($lookup, $unwind, $group with $first, $replaceWith), page by page', async () => {
      // _map_manifest_to_data_generation_set (workflow_process.py), then getMore until the cursor ends.
      const pipeline = {
        aggregate: 'data_object_set',
        pipeline: [
          { $match: { id: { $in: [readsId] } } },
          {
            $lookup: {
              from: 'data_generation_set',
              localField: 'id',
              foreignField: 'has_output',
              as: 'data_generation_set',
            },
          },
          { $unwind: '$data_generation_set' },
          {
            $group: {
              _id: '$data_generation_set._id',
              data_generation_set: { $first: '$data_generation_set' },
            },
          },
          { $replaceWith: '$data_generation_set' },
        ],
      };
      const first = await sendJson(site.token, 'POST', '/queries:run', pipeline);
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json().cursor.batch.map((d: { id: string }) => d.id)).toEqual([sequencingId]);
      expect(first.json().cursor.id).toBeNull();

      // Every data object with what generated it, two per batch: the getMore loop of run_query.
      const joined = {
        aggregate: 'data_object_set',
        pipeline: [
          {
            $lookup: {
              from: 'data_generation_set',
              localField: 'id',
              foreignField: 'has_output',
              as: 'made_by',
            },
          },
          { $project: { id: 1, made_by: '$made_by.id' } },
        ],
        cursor: { batchSize: 1 },
      };
      const batch1 = (await sendJson(site.token, 'POST', '/queries:run', joined)).json().cursor;
      expect(batch1.batch).toEqual([expect.objectContaining({ id: readsId, made_by: [sequencingId] })]);
      const batch2 = (await sendJson(site.token, 'POST', '/queries:run', { getMore: batch1.id })).json()
        .cursor;
      expect(batch2.batch).toEqual([expect.objectContaining({ id: nmdcId('dobj', 2), made_by: [] })]);

      // Joins never reach internal collections.
      const internal = await sendJson(site.token, 'POST', '/queries:run', {
        aggregate: 'data_object_set',
        pipeline: [{ $lookup: { from: 'users', localField: 'id', foreignField: 'username', as: 'x' } }],
      });
      expect(internal.statusCode).toBe(400);
      expect(internal.json().code).toBe('unknown_collection');
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
      expect(
        (await hub.inject({ method: 'GET', url: `/nmdcschema/study_set/${studyId}` })).json(),
      ).toMatchObject({
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
          {
            access_id: null,
            access_url: { url: 'https://data.example.org/contigs.fna.gz' },
            region: null,
            type: 'https',
          },
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
      const got = await hub.inject({
        method: 'GET',
        url: `/objects/${objectId}`,
        headers: siteHeaders(site.token),
      });
      expect(got.json()).toMatchObject({ id: objectId, description: '{"activity": "x"}' });
      // list_objs: GET /objects?max_page_size=40&filter=…, following next_page_token.
      const objs = await hub.inject({
        method: 'GET',
        url: `/objects?max_page_size=40&filter=${encodeURIComponent(JSON.stringify({ name: 'contigs.fna.gz' }))}`,
        headers: siteHeaders(site.token),
      });
      expect(objs.statusCode, objs.body).toBe(200);
      expect(objs.json().resources.map((o: { id: string }) => o.id)).toEqual([objectId]);
      const typed = await sendJson(site.token, 'PUT', `/objects/${objectId}/types`, ['metadata-in']);
      expect(typed.statusCode, typed.body).toBe(200);
      const bumped = await sendJson(site.token, 'PATCH', `/objects/${objectId}`, {
        created_time: '2026-02-01T10:00:00.000000',
      });
      expect(bumped.statusCode, bumped.body).toBe(200);
    });
    it('mint: POST /ids/mint with {populator, naa, shoulder, number} answers the ids as a list', async () => {
      // NmdcRuntimeApi.mint("nmdc", "mga0", 2) returns resp.json() after resp.ok.
      const minted = await sendJson(site.token, 'POST', '/ids/mint', {
        populator: '',
        naa: 'nmdc',
        shoulder: 'dobj0',
        number: 2,
      });
      expect(minted.statusCode, minted.body).toBe(200);
      const ids = minted.json<string[]>();
      expect(ids).toHaveLength(2);
      for (const id of ids) {
        expect(id).toMatch(/^nmdc:dobj-/);
        const known = await hub.inject({
          method: 'GET',
          url: `/pids/resolve/${encodeURIComponent(id)}`,
          headers: bearer(site.token),
        });
        expect(known.json()).toMatchObject({ status: 'draft', schema_class: 'nmdc:DataObject' });
      }
      const unknown = await sendJson(site.token, 'POST', '/ids/mint', {
        naa: 'nmdc',
        shoulder: 'zzz0',
        number: 1,
      });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().detail).toMatch(/shoulder zzz0 names no typecode/);
      const otherNaa = await sendJson(site.token, 'POST', '/ids/mint', {
        naa: 'gold',
        shoulder: 'dobj',
        number: 1,
      });
      expect(otherNaa.statusCode).toBe(400);
      const asUser = await sendJson(admin, 'POST', '/ids/mint', { naa: 'nmdc', shoulder: 'dobj', number: 1 });
      expect(asUser.statusCode).toBe(403);
    });
  });

  describe('RuntimeApiSiteClient: the runtime-side site client', () => {
    it('claim_job with no body and no content type; get_operation, list_operations, update_operation', async () => {
      const jobId = await createJob(ASSEMBLY, nmdcId('dgns', 5));
      // requests with json=None sends neither a body nor a Content-Type.
      const claim = await hub.inject({
        method: 'POST',
        url: `/jobs/${jobId}:claim`,
        headers: bearer(site.token),
      });
      expect(claim.statusCode, claim.body).toBe(200);
      const opId = claim.json<{ id: string }>().id;
      // operation_is_done reads `done`.
      const op = await hub.inject({ method: 'GET', url: `/operations/${opId}`, headers: bearer(site.token) });
      expect(op.json().done).toBe(false);
      // list_operations: ListRequest params, following next_page_token.
      const listed = await hub.inject({
        method: 'GET',
        url: `/operations?${new URLSearchParams({ filter: JSON.stringify({ 'metadata.job.id': jobId }) }).toString()}`,
        headers: bearer(site.token),
      });
      expect(listed.statusCode, listed.body).toBe(200);
      expect(listed.json().resources.map((o: { id: string }) => o.id)).toEqual([opId]);
      const done = await hub.inject({
        method: 'PATCH',
        url: `/operations/${opId}`,
        headers: bearer(site.token),
        payload: { done: true, result: { object_ids: ['x'] } },
      });
      expect(done.statusCode, done.body).toBe(200);
      expect(
        (await hub.inject({ method: 'GET', url: `/operations/${opId}`, headers: bearer(site.token) })).json()
          .done,
      ).toBe(true);
    });

    it("put_object_in_site: a signed upload URL that takes the bytes once; the object is the site's", async () => {
      // RuntimeApiSiteClient.put_object_in_site(object_in): POST a DrsObjectBase as JSON.
      const put = await hub.inject({
        method: 'POST',
        url: '/sites/nersc:putObject',
        headers: bearer(site.token),
        payload: { name: 'put.txt', description: 'uploaded', mime_type: 'text/plain' },
      });
      expect(put.statusCode, put.body).toBe(200);
      const op = put.json<{
        id: string;
        done: boolean;
        expire_time: string;
        metadata: {
          object_id: string;
          site_id: string;
          url: string;
          expires_in_seconds: number;
          model: string;
        };
      }>();
      expect(op).toMatchObject({ done: false, metadata: { site_id: 'nersc', expires_in_seconds: 300 } });
      expect(Date.parse(op.expire_time)).toBeGreaterThan(Date.now());
      const url = new URL(op.metadata.url);
      const path = `${url.pathname}${url.search}`;
      const octets = { 'content-type': 'application/octet-stream' };
      const altered = await hub.inject({
        method: 'PUT',
        url: path.replace('name=put.txt', 'name=evil.txt'),
        headers: octets,
        payload: 'x',
      });
      expect(altered.statusCode).toBe(403);
      const uploaded = await hub.inject({ method: 'PUT', url: path, headers: octets, payload: 'put bytes' });
      expect(uploaded.statusCode, uploaded.body).toBe(200);
      expect(uploaded.json()).toMatchObject({ id: op.metadata.object_id, name: 'put.txt', size: 9 });
      const again = await hub.inject({ method: 'PUT', url: path, headers: octets, payload: 'other bytes' });
      expect(again.statusCode).toBe(409);
      const info = await hub.inject({
        method: 'GET',
        url: `/objects/${op.metadata.object_id}`,
        headers: bearer(site.token),
      });
      expect(info.json()).toMatchObject({ name: 'put.txt', mime_type: 'text/plain' });
      const link = await hub.inject({
        method: 'POST',
        url: '/sites/nersc:getObjectLink',
        headers: bearer(site.token),
        payload: { access_id: op.metadata.object_id },
      });
      const download = new URL(link.json<{ url: string }>().url);
      expect((await hub.inject({ method: 'GET', url: `${download.pathname}${download.search}` })).body).toBe(
        'put bytes',
      );
      const foreign = await hub.inject({
        method: 'POST',
        url: '/sites/nersc:putObject',
        headers: bearer(other.token),
        payload: { name: 'x.txt' },
      });
      expect(foreign.statusCode).toBe(403);
    });

    it("get_site_object_link: a signed download link for a blob, for the site's own client only", async () => {
      const upload = await hub.inject({
        method: 'POST',
        url: '/objects:upload',
        headers: { ...bearer(site.token), 'content-type': 'multipart/form-data; boundary=xyz' },
        payload:
          '--xyz\r\nContent-Disposition: form-data; name="file"; filename="b.txt"\r\nContent-Type: text/plain\r\n\r\nlinked bytes\r\n--xyz--\r\n',
      });
      expect(upload.statusCode, upload.body).toBe(201);
      const objectId = upload.json<{ id: string }>().id;
      // RuntimeApiSiteClient.get_site_object_link(access_method): POST the AccessMethod as JSON.
      const accessMethod = { access_id: objectId, type: 'https', access_url: null, region: null };
      const link = await hub.inject({
        method: 'POST',
        url: `/sites/nersc:getObjectLink`,
        headers: bearer(site.token),
        payload: accessMethod,
      });
      expect(link.statusCode, link.body).toBe(200);
      const url = new URL(link.json<{ url: string }>().url);
      expect(url.searchParams.get('exp')).toMatch(/^\d+$/);
      const bytes = await hub.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
      expect(bytes.statusCode).toBe(200);
      expect(bytes.body).toBe('linked bytes');
      const altered = await hub.inject({
        method: 'GET',
        url: `${url.pathname}${url.search.replace(/exp=\d/, 'exp=9')}`,
      });
      expect(altered.statusCode).toBe(403);
      // Another site's client, and a user, are refused, as NMDC checks the client-site pair.
      const foreign = await hub.inject({
        method: 'POST',
        url: `/sites/nersc:getObjectLink`,
        headers: bearer(other.token),
        payload: accessMethod,
      });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.json().detail).toMatch(/acts for site emsl/);
      const asUser = await hub.inject({
        method: 'POST',
        url: `/sites/nersc:getObjectLink`,
        headers: bearer(admin),
        payload: accessMethod,
      });
      expect(asUser.statusCode).toBe(403);
      const missing = await hub.inject({
        method: 'POST',
        url: `/sites/nersc:getObjectLink`,
        headers: bearer(site.token),
        payload: { access_id: 'sys0nosuch000' },
      });
      expect(missing.statusCode).toBe(404);
    });

    it('get_object_access outside the DRS prefix, ensure_object_tag, mint_id', async () => {
      const upload = await hub.inject({
        method: 'POST',
        url: '/objects:upload',
        headers: { ...bearer(site.token), 'content-type': 'multipart/form-data; boundary=xyz' },
        payload:
          '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--xyz--\r\n',
      });
      expect(upload.statusCode, upload.body).toBe(201);
      const object = upload.json<{ id: string; access_methods: { access_id?: string }[] }>();
      const accessId = object.access_methods.find((m) => m.access_id)?.access_id;
      expect(accessId).toBeDefined();
      const access = await hub.inject({
        method: 'GET',
        url: `/objects/${object.id}/access/${accessId}`,
        headers: bearer(site.token),
      });
      expect(access.statusCode, access.body).toBe(200);
      expect(access.json().url).toMatch(/^https?:\/\//);
      // ensure_object_tag: reads [t["id"] for t in GET types], then PUTs the list plus the tag.
      const types = await hub.inject({
        method: 'GET',
        url: `/objects/${object.id}/types`,
        headers: bearer(site.token),
      });
      expect(types.statusCode).toBe(200);
      const ids = types.json().map((t: { id: string }) => t.id);
      const tagged = await hub.inject({
        method: 'PUT',
        url: `/objects/${object.id}/types`,
        headers: bearer(site.token),
        payload: [...ids, 'metadata-export'],
      });
      expect(tagged.statusCode, tagged.body).toBe(200);
      // mint_id (and NmdcRuntimeApi.minter, which reads resp.json()[0]).
      const minted = await sendJson(site.token, 'POST', '/pids/mint', {
        schema_class: { id: 'nmdc:DataObject' },
        how_many: 1,
      });
      expect(minted.statusCode, minted.body).toBe(201);
      expect(minted.json()[0]).toMatch(/^nmdc:dobj-/);
    });
  });

  describe('RuntimeApiUserClient and the importers: metadata reads and writes', () => {
    let user: string;
    beforeAll(async () => {
      const res = await hub.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'password',
          username: ADMIN.username,
          password: ADMIN.password,
        }).toString(),
      });
      expect(res.json().expires).toBeDefined();
      user = res.json().access_token;
    });

    it('validate_metadata answers result "All Okay!"; submit_metadata answers detail.run_id; get_run_info reports it', async () => {
      const database = { study_set: [study(2)] };
      const validated = await hub.inject({
        method: 'POST',
        url: '/metadata/json:validate',
        headers: bearer(user),
        payload: database,
      });
      expect(validated.statusCode).toBe(200);
      expect(validated.json().result).toBe('All Okay!');
      // An invalid Database: NMDC answers 200 and the callers branch on result == "errors".
      const refused = await hub.inject({
        method: 'POST',
        url: '/metadata/json:validate',
        headers: bearer(user),
        payload: { study_set: [{ ...study(3), name: 7 }] },
      });
      expect(refused.statusCode).toBe(200);
      expect(refused.json().result).toBe('errors');
      expect(refused.json().detail.study_set).toEqual([expect.stringContaining('/study_set/0/name')]);
      const submitted = await hub.inject({
        method: 'POST',
        url: '/metadata/json:submit',
        headers: bearer(user),
        payload: database,
      });
      expect(submitted.statusCode, submitted.body).toBeLessThan(300);
      expect(submitted.json().type).toBe('success');
      const runId = submitted.json().detail.run_id as string;
      // poll_for_run_completion: RunSummary.parse_obj, then status == COMPLETE.
      const deadline = Date.now() + 45_000;
      let summary: Record<string, unknown> = {};
      while (Date.now() < deadline) {
        summary = (await hub.inject({ method: 'GET', url: `/runs/${runId}`, headers: bearer(user) })).json();
        if (summary.status === 'COMPLETE') {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(summary).toMatchObject({
        id: runId,
        status: 'COMPLETE',
        inputs: [expect.any(String)],
        outputs: [],
        job: { id: 'metadata-in-1.0.0', description: expect.any(String) },
      });
      for (const field of ['started_at_time', 'was_started_by', 'producer', 'schemaURL']) {
        expect(typeof summary[field], field).toBe('string');
      }
      expect(
        (await hub.inject({ method: 'GET', url: `/nmdcschema/ids/${nmdcId('sty', 2)}` })).statusCode,
      ).toBe(200);
    });

    it('queries:run finds of the user client: $elemMatch over values, the legacy omics_processing_set', async () => {
      const run = async (body: unknown) => {
        const res = await hub.inject({
          method: 'POST',
          url: '/queries:run',
          headers: bearer(user),
          payload: body as object,
        });
        expect(res.statusCode, res.body).toBe(200);
        return res.json().cursor.batch as { id: string }[];
      };
      // get_biosamples_by_gold_biosample_id
      expect(
        (
          await run({
            find: 'biosample_set',
            filter: { gold_biosample_identifiers: { $elemMatch: { $eq: 'gold:Gb0115231' } } },
          })
        ).map((d) => d.id),
      ).toEqual([sampleId]);
      // get_omics_processing_records_by_gold_project_id
      expect(
        (
          await run({
            find: 'omics_processing_set',
            filter: { gold_sequencing_project_identifiers: { $elemMatch: { $eq: 'gold:Gp0108335' } } },
          })
        ).map((d) => d.id),
      ).toEqual([sequencingId]);
      // get_omics_processing_by_name
      expect(
        (
          await run({
            find: 'omics_processing_set',
            filter: { name: { $regex: 'sequencing', $options: 'i' } },
          })
        ).map((d) => d.id),
      ).toEqual([sequencingId]);
      // get_study
      expect((await run({ find: 'study_set', filter: { id: studyId } })).map((d) => d.id)).toEqual([studyId]);
      // $elemMatch over sub-documents would be answered wrongly by FerretDB v1: refused, with the way out.
      const refused = await hub.inject({
        method: 'POST',
        url: '/queries:run',
        headers: bearer(user),
        payload: { find: 'biosample_set', filter: { lat_lon: { $elemMatch: { latitude: 36 } } } },
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.body).toContain('dotted paths');
    });

    it('queries:run delete of a document still referred to: 422 unless allow_broken_refs=true', async () => {
      await seed(hub, { study_set: [study(3)], biosample_set: [biosample(3, nmdcId('sty', 3))] });
      const command = { delete: 'study_set', deletes: [{ q: { id: nmdcId('sty', 3) }, limit: 1 }] };
      const refused = await hub.inject({
        method: 'POST',
        url: '/queries:run',
        headers: bearer(user),
        payload: command,
      });
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json()).toMatchObject({
        code: 'broken_references',
        errors: [{ path: `biosample_set/${nmdcId('bsm', 3)}`, message: `refers to ${nmdcId('sty', 3)}` }],
      });
      expect(
        (await hub.inject({ method: 'GET', url: `/nmdcschema/ids/${nmdcId('sty', 3)}` })).statusCode,
      ).toBe(200);
      const forced = await hub.inject({
        method: 'POST',
        url: '/queries:run?allow_broken_refs=true',
        headers: bearer(user),
        payload: command,
      });
      expect(forced.statusCode, forced.body).toBe(200);
      expect(forced.json().n).toBe(1);
      expect(
        (await hub.inject({ method: 'GET', url: `/nmdcschema/ids/${nmdcId('sty', 3)}` })).statusCode,
      ).toBe(404);
    });

    it('find_planned_processes: NMDC filter syntax over data generations and workflow executions', async () => {
      const res = await hub.inject({
        method: 'GET',
        url: `/planned_processes?${new URLSearchParams({
          filter: `was_informed_by:${sequencingId},type:nmdc:ReadQcAnalysis`,
          per_page: '100',
        }).toString()}`,
        headers: bearer(user),
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().results.map((d: { id: string }) => d.id)).toEqual([nmdcId('wfrqc', 1, '.1')]);
      const both = await hub.inject({
        method: 'GET',
        url: `/planned_processes?${new URLSearchParams({ filter: `id.search:^nmdc:(dgns|wfrqc)`, per_page: '1', page: '2' }).toString()}`,
      });
      expect(both.json().meta.count).toBe(2);
      expect(both.json().results.map((d: { id: string }) => d.id)).toEqual([nmdcId('wfrqc', 1, '.1')]);
      // find_data_objects: GET /data_objects/{id}.
      const object = await hub.inject({
        method: 'GET',
        url: `/data_objects/${readsId}`,
        headers: bearer(user),
      });
      expect(object.json()).toMatchObject({ id: readsId });
    });

    it('/data_objects/study/{id}: the data objects of each biosample of the study', async () => {
      const res = await hub.inject({ method: 'GET', url: `/data_objects/study/${studyId}` });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual([
        {
          biosample_id: sampleId,
          data_objects: [
            expect.objectContaining({ id: readsId }),
            expect.objectContaining({ id: nmdcId('dobj', 2) }),
          ],
        },
      ]);
      expect(
        (await hub.inject({ method: 'GET', url: `/data_objects/study/${nmdcId('sty', 99)}` })).statusCode,
      ).toBe(404);
    });

    it('run_query updates work for a site client granted queries:write, as NMDC grants to client ids', async () => {
      const update = {
        update: 'data_generation_set',
        updates: [{ q: { id: sequencingId }, u: { $set: { name: 'Sequencing one' } } }],
      };
      const denied = await sendJson(site.token, 'POST', '/queries:run', update);
      expect(denied.statusCode).toBe(403);
      await grantAllowance(hub, admin, site.clientId, 'queries:write');
      const allowed = await sendJson(site.token, 'POST', '/queries:run', update);
      expect(allowed.statusCode, allowed.body).toBe(200);
      expect((await hub.inject({ method: 'GET', url: `/nmdcschema/ids/${sequencingId}` })).json().name).toBe(
        'Sequencing one',
      );
    });
  });
});
