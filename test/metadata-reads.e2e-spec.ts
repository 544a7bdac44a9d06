import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { OpenCursors } from '../src/infra/mongo/open-cursors.js';
import { ADMIN, ADMIN_ENV, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { assembly, biosample, dataObject, nmdcId, seed, sequencing, study } from './support/metadata.js';

const PAGED = 5000;

describe('metadata collection reads', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub({ env: ADMIN_ENV });
    await passwordToken(hub, ADMIN.username, ADMIN.password);
    const studies = [study(1), study(2), study(3, { part_of: [nmdcId('sty', 1)] })];
    const samples = Array.from({ length: PAGED }, (_, i) => biosample(i + 1, nmdcId('sty', (i % 3) + 1)));
    const objects = [dataObject(1), dataObject(2)];
    await seed(hub, {
      study_set: studies,
      biosample_set: samples,
      data_object_set: objects,
      data_generation_set: [sequencing(1, nmdcId('sty', 1), nmdcId('bsm', 1), [nmdcId('dobj', 1)])],
      workflow_execution_set: [assembly(1, nmdcId('dgns', 1), [nmdcId('dobj', 1)])],
    });
  }, 120_000);
  afterAll(async () => {
    await hub.close();
  });

  it('lists the schema collections with their counts', async () => {
    const res = await hub.inject({ method: 'GET', url: '/metadata/collections' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.schema).toBe('nmdc-lite 1.0.0');
    const byName = Object.fromEntries(body.resources.map((c: { name: string }) => [c.name, c]));
    expect(Object.keys(byName)).toEqual([
      'biosample_set',
      'data_generation_set',
      'data_object_set',
      'study_set',
      'workflow_execution_set',
    ]);
    expect(byName.biosample_set).toMatchObject({
      count: PAGED,
      classes: ['nmdc:Biosample'],
      typecodes: ['bsm'],
    });
    expect(byName.study_set.count).toBe(3);
    expect(byName.data_generation_set.typecodes).toEqual(['dgns', 'omprc', 'dgms']);
  });

  it('creates the unique id index and the indexes the schema declares', async () => {
    const indexes = await hub.app.get(MongoService).db.collection('biosample_set').listIndexes().toArray();
    const byName = Object.fromEntries(indexes.map((i) => [i.name, i]));
    expect(byName.id_unique).toMatchObject({ key: { id: 1 }, unique: true });
    expect(byName.associated_studies_1?.key).toEqual({ associated_studies: 1 });
    expect(byName['env_broad_scale.term.id_1']?.key).toEqual({ 'env_broad_scale.term.id': 1 });
  });

  it('filters with allow-listed operators and projects fields, never returning _id', async () => {
    const res = await hub.inject({
      method: 'GET',
      url: '/metadata/study_set',
      query: { filter: JSON.stringify({ ecosystem_category: { $in: ['Aquatic'] } }), projection: 'name' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      resources: [
        { id: nmdcId('sty', 1), name: 'Study 1' },
        { id: nmdcId('sty', 3), name: 'Study 3' },
      ],
    });
    const regex = await hub.inject({
      method: 'GET',
      url: '/metadata/study_set',
      query: {
        filter: JSON.stringify({
          $or: [{ name: { $regex: '^study 2$', $options: 'i' } }, { part_of: { $exists: true } }],
        }),
      },
    });
    expect(regex.json().resources.map((d: { id: string }) => d.id)).toEqual([
      nmdcId('sty', 2),
      nmdcId('sty', 3),
    ]);
    expect(regex.json().resources[0]._id).toBeUndefined();
    const dotted = await hub.inject({
      method: 'GET',
      url: '/metadata/data_object_set',
      query: { filter: JSON.stringify({ file_size_bytes: { $gt: 1001 } }), projection: 'url' },
    });
    expect(dotted.json().resources).toEqual([
      { id: nmdcId('dobj', 2), url: 'https://data.example.org/2.fastq.gz' },
    ]);
  });

  it(`pages through ${PAGED} documents with tokens, without duplicates or gaps`, async () => {
    const openBefore = hub.app.get(OpenCursors).size;
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await hub.inject({
        method: 'GET',
        url: '/metadata/biosample_set',
        query: { max_page_size: '700', projection: 'id', ...(token ? { page_token: token } : {}) },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      seen.push(...body.resources.map((d: { id: string }) => d.id));
      token = body.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(Math.ceil(PAGED / 700));
    expect(new Set(seen).size).toBe(PAGED);
    const expected = Array.from({ length: PAGED }, (_, i) => nmdcId('bsm', i + 1)).sort();
    expect(seen).toEqual(expected);
    expect(hub.app.get(OpenCursors).size).toBe(openBefore);
  }, 120_000);

  it('continues a page token in another process that has no open cursor for it', async () => {
    const first = await hub.inject({
      method: 'GET',
      url: '/metadata/biosample_set',
      query: { max_page_size: '2', filter: JSON.stringify({ ecosystem_category: 'Plants' }) },
    });
    const other = await startTestHub({
      env: { MONGO_DB: hub.config.mongo.database, METADATA_OPEN_CURSORS_MAX: '0' },
      keepData: true,
    });
    try {
      const next = await other.inject({
        method: 'GET',
        url: '/metadata/biosample_set',
        query: {
          max_page_size: '2',
          filter: JSON.stringify({ ecosystem_category: 'Plants' }),
          page_token: first.json().next_page_token,
        },
      });
      expect(next.statusCode).toBe(200);
      const ids = [...first.json().resources, ...next.json().resources].map((d: { id: string }) => d.id);
      expect(ids).toEqual([3, 6, 9, 12].map((n) => nmdcId('bsm', n)).sort());
    } finally {
      await other.close();
    }
  }, 60_000);

  it('refuses a token replayed with another filter', async () => {
    const first = await hub.inject({
      method: 'GET',
      url: '/metadata/study_set',
      query: { max_page_size: '1' },
    });
    const replay = await hub.inject({
      method: 'GET',
      url: '/metadata/study_set',
      query: { max_page_size: '1', page_token: first.json().next_page_token, filter: '{"name":"Study 2"}' },
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().code).toBe('invalid_page_token');
  });

  it.each([
    ['invalid JSON filter', { filter: '{"name": ' }, 'invalid_filter', /not valid JSON/],
    [
      'forbidden operator',
      { filter: '{"$where": "sleep(100)"}' },
      'invalid_filter',
      /\$where is not allowed/,
    ],
    [
      'forbidden field operator',
      { filter: '{"name": {"$expr": 1}}' },
      'invalid_filter',
      /\$expr is not allowed/,
    ],
    ['unknown filter field', { filter: '{"password_hash": "x"}' }, 'invalid_filter', /password_hash/],
    [
      'over-long regex',
      { filter: JSON.stringify({ name: { $regex: 'a'.repeat(300) } }) },
      'invalid_filter',
      /at most 256/,
    ],
    ['unknown projection field', { projection: 'name,secret' }, 'invalid_projection', /secret/],
    ['malformed projection', { projection: 'name;drop' }, 'validation_failed', /projection/],
    ['oversized page', { max_page_size: '2001' }, 'validation_failed', /at most 2000/],
    ['forged token', { page_token: 'abc.def' }, 'invalid_page_token', /not a token/],
  ])('answers 400 for %s', async (_name, query, code, detail) => {
    const res = await hub.inject({ method: 'GET', url: '/metadata/biosample_set', query });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe(code);
    expect(JSON.stringify(res.json())).toMatch(detail);
  });

  it('gets one document by collection and id, with a projection', async () => {
    const res = await hub.inject({ method: 'GET', url: `/metadata/biosample_set/${nmdcId('bsm', 7)}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(biosample(7, nmdcId('sty', 1)));
    const projected = await hub.inject({
      method: 'GET',
      url: `/metadata/biosample_set/${nmdcId('bsm', 7)}?projection=name`,
    });
    expect(projected.json()).toEqual({ id: nmdcId('bsm', 7), name: 'Sample 7' });
    const missing = await hub.inject({
      method: 'GET',
      url: `/metadata/biosample_set/${nmdcId('bsm', 999_999)}`,
    });
    expect(missing.statusCode).toBe(404);
  });

  it('finds a document by id alone through its typecode', async () => {
    for (const [id, name] of [
      [nmdcId('sty', 2), 'Study 2'],
      [nmdcId('dobj', 2), 'reads_2.fastq.gz'],
      [nmdcId('dgns', 1), 'Sequencing 1'],
      [nmdcId('wfmgas', 1, '.1'), 'Assembly 1'],
    ]) {
      const res = await hub.inject({ method: 'GET', url: `/metadata/ids/${id}` });
      expect(res.statusCode, id).toBe(200);
      expect(res.json()).toMatchObject({ id, name });
    }
    const malformed = await hub.inject({ method: 'GET', url: '/metadata/ids/not-an-id' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('invalid_id');
    const unknownTypecode = await hub.inject({ method: 'GET', url: '/metadata/ids/nmdc:zzz-11-abcdef12' });
    expect(unknownTypecode.statusCode).toBe(404);
    expect(unknownTypecode.json().detail).toMatch(/typecode "zzz"/);
    const absent = await hub.inject({ method: 'GET', url: `/metadata/ids/${nmdcId('sty', 404)}` });
    expect(absent.statusCode).toBe(404);
  });

  it.each(['users', 'sites', 'site_clients', 'allowances', 'revoked_tokens', 'pid_records', 'query_cursors'])(
    'keeps the internal collection %s unreachable through every metadata read route',
    async (internal) => {
      for (const url of [
        `/metadata/${internal}`,
        `/metadata/${internal}?filter=${encodeURIComponent('{"username":"admin"}')}`,
        `/metadata/${internal}/admin`,
      ]) {
        const res = await hub.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(400);
        expect(res.json().code).toBe('unknown_collection');
        expect(res.body).not.toMatch(/password|secret_hash|argon2/);
      }
    },
  );
});
