import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { MetadataStore } from '../src/metadata/metadata-store.service.js';
import { ADMIN, bearer, createUser, grantAllowance, passwordToken } from './support/auth.js';
import { DRS } from './support/drs.js';
import { isolatedEnv, startTestHub, type TestHub } from './support/harness.js';
import { biosample, dataObject, nmdcId, seed, study } from './support/metadata.js';
import { FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';
import { collect, exited, spawnHub } from './support/process.js';

const COLLECTIONS = ['biosample_set', 'data_object_set', 'study_set'];

interface DrsBlob {
  id: string;
  name: string;
  size: number;
  mime_type: string;
  checksums: { type: string; checksum: string }[];
  access_methods: { access_id?: string; type: string }[];
}

interface ExpandedBundle {
  id: string;
  name: string;
  contents: { name: string; id: string; contents?: unknown }[];
}

describe('metadata exports (DRS blobs + bundle) and their import', () => {
  let hub: TestHub;
  let admin: string;
  let exporter: string;
  let outsider: string;

  const post = (url: string, token: string | undefined, payload?: unknown) =>
    hub.inject({
      method: 'POST',
      url,
      headers: { ...(token ? bearer(token) : {}), 'content-type': 'application/json' },
      payload: JSON.stringify(payload ?? {}),
    });

  async function runToEnd(runId: string): Promise<{ status: string }> {
    return waitFor(
      `run ${runId} to finish`,
      async () => {
        const run = (
          await hub.inject({ method: 'GET', url: `/orchestrator/runs/${runId}`, headers: bearer(admin) })
        ).json<{ status: string }>();
        return ['SUCCESS', 'FAILURE', 'CANCELED'].includes(run.status) ? run : undefined;
      },
      60_000,
      200,
    );
  }

  async function exportNow(): Promise<ExpandedBundle> {
    const res = await post('/metadata/exports', exporter);
    expect(res.statusCode).toBe(202);
    const { run_id } = res.json<{ run_id: string }>();
    expect(await runToEnd(run_id)).toMatchObject({ status: 'SUCCESS' });
    const latest = await hub.inject({ method: 'GET', url: '/metadata/exports/latest' });
    expect(latest.statusCode).toBe(303);
    const location = String(latest.headers.location);
    expect(location).toMatch(new RegExp(`${DRS}/objects/sys0`));
    const id = location.split('/').pop() as string;
    const bundle = await hub.inject({ method: 'GET', url: `${DRS}/objects/${id}?expand=true` });
    expect(bundle.statusCode).toBe(200);
    return bundle.json<ExpandedBundle>();
  }

  /** Downloads a blob through the signed URL its access method resolves to. */
  async function download(blobId: string): Promise<Buffer> {
    const access = await hub.inject({ method: 'GET', url: `${DRS}/objects/${blobId}/access/https` });
    expect(access.statusCode).toBe(200);
    const url = new URL(access.json<{ url: string }>().url);
    expect(url.searchParams.get('sig')).toMatch(/^[0-9a-f]{64}$/);
    const res = await hub.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
    expect(res.statusCode).toBe(200);
    return res.rawPayload;
  }

  async function blob(id: string): Promise<DrsBlob> {
    const res = await hub.inject({ method: 'GET', url: `${DRS}/objects/${id}` });
    expect(res.statusCode).toBe(200);
    return res.json<DrsBlob>();
  }

  async function snapshot(): Promise<Record<string, unknown[]>> {
    const store = hub.app.get(MetadataStore);
    const all: Record<string, unknown[]> = {};
    for (const collection of COLLECTIONS) {
      all[collection] = [];
      for await (const doc of store.stream(collection)) {
        all[collection].push(doc);
      }
    }
    return all;
  }

  async function dropCollections(): Promise<void> {
    const db = hub.app.get(MongoService).db;
    for (const collection of COLLECTIONS) {
      await db.collection(collection).deleteMany({});
    }
  }

  beforeAll(async () => {
    const { ORCH_CODE_LOCATIONS: _fixtures, ...env } = FAST_ORCHESTRATOR_ENV;
    hub = await startTestHub({ env });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    exporter = (await createUser(hub, admin, 'exporter')).token;
    outsider = (await createUser(hub, admin, 'outsider')).token;
    await grantAllowance(hub, admin, 'exporter', 'exports:run');
    await seed(hub, {
      study_set: [study(1), study(2, { description: 'Ünïcode — “quoted” \\ back\nslash' })],
      biosample_set: Array.from({ length: 250 }, (_, i) => biosample(i + 1, nmdcId('sty', (i % 2) + 1))),
      data_object_set: Array.from({ length: 40 }, (_, i) => dataObject(i + 1)),
    });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('answers 404 problem+json for the latest export before there is one', async () => {
    const res = await hub.inject({ method: 'GET', url: '/metadata/exports/latest' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json<{ detail: string }>().detail).toContain('POST /metadata/exports');
    const list = await hub.inject({ method: 'GET', url: '/metadata/exports' });
    expect(list.json()).toEqual({ resources: [] });
  });

  it('lets only holders of exports:run start exports and imports', async () => {
    expect((await post('/metadata/exports', undefined)).statusCode).toBe(401);
    expect((await post('/metadata/exports', outsider)).statusCode).toBe(403);
    expect((await post('/metadata/imports', outsider, { object_id: 'sys0abc' })).statusCode).toBe(403);
  });

  it('refuses to import what is not an export, naming the problem', async () => {
    const malformed = await post('/metadata/imports', exporter, { object_id: 'not an id' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.body).toContain('object_id must be a DRS object id');
    const missing = await post('/metadata/imports', exporter, {});
    expect(missing.statusCode).toBe(400);
    const unknown = await post('/metadata/imports', exporter, { object_id: 'sys0nothere' });
    expect(unknown.statusCode).toBe(404);
  });

  let first: ExpandedBundle;
  const firstBlobs = new Map<string, DrsBlob>();
  let before: Record<string, unknown[]>;

  it('exports each collection as a gzipped JSON-lines DRS blob, all in one bundle', async () => {
    before = await snapshot();
    first = await exportNow();
    expect(first.name).toMatch(/^metadata-export-\d{8}T\d{6}Z$/);
    const names = first.contents.map((entry) => entry.name).sort();
    expect(names).toEqual(
      ['biosample_set', 'data_generation_set', 'data_object_set', 'study_set', 'workflow_execution_set'].map(
        (c) => `${c}.jsonl.gz`,
      ),
    );
    for (const entry of first.contents) {
      const record = await blob(entry.id);
      firstBlobs.set(entry.name, record);
      expect(record).toMatchObject({ mime_type: 'application/gzip' });
      const bytes = await download(entry.id);
      expect(bytes.length).toBe(record.size);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      expect(record.checksums).toEqual(
        expect.arrayContaining([
          { type: 'sha-256', checksum: sha256 },
          { type: 'md5', checksum: createHash('md5').update(bytes).digest('hex') },
        ]),
      );
      // gunzipSync throws on a corrupt or truncated stream.
      const text = gunzipSync(bytes).toString('utf8');
      const lines = text === '' ? [] : text.trimEnd().split('\n');
      const collection = entry.name.replace('.jsonl.gz', '');
      expect(lines.length).toBe(before[collection]?.length ?? 0);
      expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(before[collection] ?? []);
    }
    const study = firstBlobs.get('study_set.jsonl.gz') as DrsBlob & { description: string };
    expect(study.description).toMatch(/study_set .* 2 document\(s\)/);
    const types = await hub.inject({ method: 'GET', url: `/objects/${first.id}`, headers: bearer(admin) });
    expect(types.json()).toMatchObject({ types: ['metadata-export'] });
  });

  it('reuses the blobs of unchanged collections when exporting again', async () => {
    const again = await exportNow();
    expect(again.id).not.toBe(first.id);
    expect(again.contents.map((e) => [e.name, e.id])).toEqual(first.contents.map((e) => [e.name, e.id]));
    const list = await hub.inject({ method: 'GET', url: '/metadata/exports?max_page_size=1' });
    const page = list.json<{ resources: { id: string }[]; next_page_token?: string }>();
    expect(page.resources.map((r) => r.id)).toEqual([again.id]);
    const next = await hub.inject({
      method: 'GET',
      url: `/metadata/exports?max_page_size=1&page_token=${encodeURIComponent(page.next_page_token ?? '')}`,
    });
    expect(next.json<{ resources: { id: string }[] }>().resources.map((r) => r.id)).toEqual([first.id]);
  });

  it('round trip: export → drop → import → export gives identical documents and checksums', async () => {
    await dropCollections();
    expect((await snapshot()).biosample_set).toEqual([]);
    const res = await post('/metadata/imports', exporter, { object_id: first.id });
    expect(res.statusCode).toBe(202);
    const { run_id } = res.json<{ run_id: string }>();
    expect(await runToEnd(run_id)).toMatchObject({ status: 'SUCCESS' });
    expect(await snapshot()).toEqual(before);

    const third = await exportNow();
    for (const entry of third.contents) {
      const record = await blob(entry.id);
      expect(record.checksums).toEqual(firstBlobs.get(entry.name)?.checksums);
    }
  });

  it('imports from the command line, upserting and counting invalid lines with their errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rh-import-'));
    try {
      const changed = study(1, { name: 'Renamed study' });
      const fresh = study(3);
      const lines = [
        JSON.stringify(changed),
        JSON.stringify(fresh),
        '{"id": "nmdc:sty-11-zzzzzzzz", "type": "nmdc:Study"',
        JSON.stringify({ id: nmdcId('sty', 4), type: 'nmdc:Study', no_such_slot: 1 }),
      ];
      await writeFile(join(dir, 'study_set.jsonl.gz'), gzipSync(`${lines.join('\n')}\n`));
      const env = {
        ...isolatedEnv(),
        MONGO_DB: hub.config.mongo.database,
        PG_SCHEMA: hub.config.postgres.schema,
        REDIS_PREFIX: hub.config.redis.prefix,
        BLOB_DIR: hub.config.blobs.dir,
        LOG_LEVEL: 'warn',
      };
      const child = spawnHub('src/cli.ts', ['metadata', 'import', dir, '--no-progress'], env);
      const output = collect(child);
      const { code } = await exited(child);
      expect(output.stdout()).toContain('study_set: 1 inserted, 1 updated, 2 invalid');
      expect(output.stdout()).toContain('study_set line 3: is not valid JSON');
      expect(output.stdout()).toMatch(/study_set line 4 \/no_such_slot: /);
      expect(code).toBe(1);
      const store = hub.app.get(MetadataStore);
      expect(await store.getDocument('study_set', changed.id as string)).toMatchObject({
        name: 'Renamed study',
      });
      expect(await store.getDocument('study_set', fresh.id as string)).not.toBeNull();

      const wrong = spawnHub('src/cli.ts', ['metadata', 'import', join(dir, 'nothing-here')], env);
      const wrongOutput = collect(wrong);
      expect((await exited(wrong)).code).toBe(1);
      expect(wrongOutput.stderr()).toContain('is not a file, a directory or a DRS object id');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
