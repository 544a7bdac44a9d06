import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { QueriesService } from '../src/metadata/queries.service.js';
import {
  ADMIN,
  ADMIN_ENV,
  bearer,
  createSiteWithClient,
  createUser,
  grantAllowance,
  passwordToken,
} from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { biosample, nmdcId, seed, study } from './support/metadata.js';

const SAMPLES = 30;

describe('POST /queries:run', () => {
  let hub: TestHub;
  let adminToken: string;
  let readerToken: string;
  let writerToken: string;
  let siteToken: string;

  const run = (token: string, payload: Record<string, unknown>) =>
    hub.inject({ method: 'POST', url: '/queries:run', headers: bearer(token), payload });

  const drain = async (
    token: string,
    first: { cursor: { batch: Record<string, unknown>[]; id: string | null } },
  ) => {
    const docs = [...first.cursor.batch];
    const sizes = [first.cursor.batch.length];
    let id = first.cursor.id;
    while (id) {
      const res = await run(token, { getMore: id });
      expect(res.statusCode).toBe(200);
      docs.push(...res.json().cursor.batch);
      sizes.push(res.json().cursor.batch.length);
      id = res.json().cursor.id;
    }
    return { docs, sizes };
  };

  beforeAll(async () => {
    hub = await startTestHub({ env: ADMIN_ENV });
    adminToken = await passwordToken(hub, ADMIN.username, ADMIN.password);
    readerToken = (await createUser(hub, adminToken, 'reader')).token;
    writerToken = (await createUser(hub, adminToken, 'writer')).token;
    await grantAllowance(hub, adminToken, 'writer', 'queries:write');
    siteToken = (await createSiteWithClient(hub, adminToken, 'query-site')).token;
    await seed(hub, {
      study_set: [study(1), study(2)],
      biosample_set: Array.from({ length: SAMPLES }, (_, i) => biosample(i + 1, nmdcId('sty', (i % 2) + 1))),
    });
  });
  afterAll(async () => {
    await hub.close();
  });

  describe('reads', () => {
    it('finds in batches and continues with getMore until the cursor id is null', async () => {
      const res = await run(readerToken, {
        find: 'biosample_set',
        filter: { associated_studies: nmdcId('sty', 1) },
        projection: { name: 1, id: 1 },
        sort: { name: -1 },
        batchSize: 4,
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.ok).toBe(1);
      expect(body.cursor.batch[0]).toEqual({ id: nmdcId('bsm', 9), name: 'Sample 9' });
      const { docs, sizes } = await drain(readerToken, body);
      expect(sizes).toEqual([4, 4, 4, 3]);
      expect(docs.map((d) => d.name)).toEqual(
        Array.from({ length: 15 }, (_, i) => `Sample ${i * 2 + 1}`)
          .sort()
          .reverse(),
      );
    });

    it('answers a null cursor id when a batch drains the results exactly, and honours limit', async () => {
      const exact = await run(readerToken, { find: 'study_set', batchSize: 2 });
      expect(exact.json().cursor).toMatchObject({ id: null });
      expect(exact.json().cursor.batch).toHaveLength(2);
      const limited = await run(readerToken, {
        find: 'biosample_set',
        limit: 7,
        batchSize: 3,
        projection: { id: 1 },
      });
      const { docs, sizes } = await drain(readerToken, limited.json());
      expect(sizes).toEqual([3, 3, 1]);
      expect(docs).toEqual(Array.from({ length: 7 }, (_, i) => ({ id: nmdcId('bsm', i + 1) })));
    });

    it('returns _id only when the projection asks for it', async () => {
      const res = await run(readerToken, { find: 'study_set', projection: { _id: 1 }, batchSize: 1 });
      expect(res.json().cursor.batch).toEqual([{ _id: nmdcId('sty', 1) }]);
    });

    it('counts', async () => {
      const res = await run(siteToken, {
        count: 'biosample_set',
        query: { 'depth.has_numeric_value': { $lt: 10 } },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ok: 1, n: 9 });
    });

    it('aggregates with allow-listed stages and pages the results', async () => {
      const res = await run(readerToken, {
        aggregate: 'biosample_set',
        pipeline: [
          { $match: { ecosystem_category: 'Terrestrial' } },
          { $group: { _id: '$associated_studies', n: { $sum: 1 } } },
          { $sort: { n: -1, _id: 1 } },
        ],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().cursor).toEqual({
        batch: [
          { _id: [nmdcId('sty', 1)], n: 10 },
          { _id: [nmdcId('sty', 2)], n: 10 },
        ],
        id: null,
      });
      const paged = await run(readerToken, {
        aggregate: 'biosample_set',
        pipeline: [{ $match: { name: { $regex: '^Sample 1' } } }, { $project: { _id: 0, name: 1 } }],
        cursor: { batchSize: 5 },
      });
      const { docs, sizes } = await drain(readerToken, paged.json());
      expect(sizes).toEqual([5, 5, 1]);
      expect(new Set(docs.map((d) => d.name)).size).toBe(11);
    });

    it('hands each document out once to concurrent getMore continuations of one cursor, 3 rounds', async () => {
      for (let round = 0; round < 3; round++) {
        const first = await run(readerToken, { find: 'biosample_set', projection: { id: 1 }, batchSize: 2 });
        expect(first.statusCode).toBe(200);
        const id = first.json().cursor.id as string;
        const seen: string[] = first.json().cursor.batch.map((d: { id: string }) => d.id);
        let open = true;
        while (open) {
          const replies = await Promise.all(
            Array.from({ length: 12 }, () => run(readerToken, { getMore: id })),
          );
          for (const reply of replies) {
            // A continuation that arrives after another drained the cursor finds it gone.
            if (reply.statusCode === 404) {
              open = false;
              continue;
            }
            expect(reply.statusCode).toBe(200);
            seen.push(...reply.json().cursor.batch.map((d: { id: string }) => d.id));
            if (reply.json().cursor.id === null) {
              open = false;
            }
          }
        }
        expect(seen).toHaveLength(SAMPLES);
        expect(new Set(seen).size).toBe(SAMPLES);
      }
    });

    it('keeps cursors to whoever opened them, and forgets them once expired', async () => {
      const res = await run(readerToken, { find: 'biosample_set', batchSize: 5 });
      const id = res.json().cursor.id;
      expect(id).toMatch(/^sys0/);
      const stolen = await run(writerToken, { getMore: id });
      expect(stolen.statusCode).toBe(404);
      const swept = await hub.app.get(QueriesService).sweep(new Date(Date.now() + 2 * 3600_000));
      expect(swept.cursors).toBeGreaterThanOrEqual(1);
      const expired = await run(readerToken, { getMore: id });
      expect(expired.statusCode).toBe(404);
      expect(expired.json().detail).toMatch(/expire/);
      expect((await run(readerToken, { getMore: 'sys0unknown' })).statusCode).toBe(404);
    });

    it.each([
      ['no command', { filter: {} }, /names no command/],
      ['two commands', { find: 'study_set', count: 'study_set' }, /names 2 commands/],
      ['a stray field', { count: 'study_set', sort: { id: 1 } }, /sort: does not go with a count command/],
      [
        'a forbidden operator',
        { find: 'study_set', filter: { $where: 'true' } },
        /\/filter\/\$where: operator \$where is not allowed/,
      ],
      ['an unknown field', { find: 'study_set', filter: { hashed_password: 'x' } }, /hashed_password/],
      [
        'an over-long regex',
        { count: 'study_set', query: { name: { $regex: 'x'.repeat(257) } } },
        /at most 256/,
      ],
      [
        'a projection operator',
        { find: 'study_set', projection: { name: { $slice: 1 } } },
        /projection\/name/,
      ],
      [
        'a mixed projection',
        { find: 'study_set', projection: { name: 1, description: 0 } },
        /database refused/,
      ],
      ['a bad sort', { find: 'study_set', sort: { name: 'up' } }, /must be 1 or -1/],
      ['an oversized batch', { find: 'study_set', batchSize: 5000 }, /batchSize/],
      ['$out', { aggregate: 'study_set', pipeline: [{ $out: 'stolen' }] }, /stage \$out is not allowed/],
      [
        '$merge',
        { aggregate: 'study_set', pipeline: [{ $merge: { into: 'x' } }] },
        /stage \$merge is not allowed/,
      ],
      [
        '$lookup',
        {
          aggregate: 'study_set',
          pipeline: [{ $lookup: { from: 'users', localField: 'id', foreignField: 'username', as: 'u' } }],
        },
        /users\\?" is not a metadata collection/,
      ],
      [
        '$function',
        { aggregate: 'study_set', pipeline: [{ $addFields: { x: { $function: { body: 'x' } } } }] },
        /\$function is not allowed/,
      ],
      [
        'a malformed stage',
        { aggregate: 'study_set', pipeline: [{ $match: {}, $limit: 1 }] },
        /exactly one stage operator/,
      ],
      [
        'a forbidden $match operator',
        { aggregate: 'study_set', pipeline: [{ $match: { $expr: {} } }] },
        /\$expr is not allowed/,
      ],
      ['a missing pipeline', { aggregate: 'study_set' }, /needs a pipeline/],
      [
        'an unsupported expression',
        { aggregate: 'study_set', pipeline: [{ $project: { x: { $concat: ['a'] } } }] },
        /database refused/,
      ],
    ])('answers 400 for %s', async (_name, payload, detail) => {
      const res = await run(readerToken, payload);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(res.json())).toMatch(detail);
    });

    it('needs a token', async () => {
      const res = await hub.inject({ method: 'POST', url: '/queries:run', payload: { count: 'study_set' } });
      expect(res.statusCode).toBe(401);
    });
  });

  describe('internal collections', () => {
    it.each([
      'users',
      'sites',
      'site_clients',
      'allowances',
      'revoked_tokens',
      'metadata_backups',
      'query_cursors',
    ])('cannot read or change %s through any command', async (internal) => {
      const commands: Record<string, unknown>[] = [
        { find: internal },
        { find: internal, filter: { username: 'admin' } },
        { count: internal },
        { aggregate: internal, pipeline: [{ $match: {} }] },
        { update: internal, updates: [{ q: {}, u: { $set: { is_admin: true } }, multi: true }] },
        { delete: internal, deletes: [{ q: {}, limit: 0 }] },
      ];
      for (const payload of commands) {
        const res = await run(adminToken, payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json().code).toBe('unknown_collection');
        expect(res.body).not.toMatch(/password_hash|argon2|secret_hash/);
      }
    });
  });

  describe('writes', () => {
    it('needs the queries:write allowance for update and delete', async () => {
      for (const token of [readerToken, siteToken]) {
        const update = await run(token, {
          update: 'study_set',
          updates: [{ q: { id: nmdcId('sty', 1) }, u: { $set: { name: 'x' } } }],
        });
        expect(update.statusCode).toBe(403);
        expect(update.json().detail).toMatch(/queries:write/);
        const del = await run(token, { delete: 'study_set', deletes: [{ q: {}, limit: 0 }] });
        expect(del.statusCode).toBe(403);
      }
    });

    it('updates after validating, backs up the previous versions, and counts', async () => {
      const res = await run(writerToken, {
        update: 'biosample_set',
        updates: [
          {
            q: { ecosystem_category: 'Plants' },
            u: { $set: { ecosystem_category: 'Plant-associated' } },
            multi: true,
          },
          {
            q: { ecosystem_category: 'Plant-associated' },
            u: { $set: { samp_name: 'renamed' } },
            multi: true,
          },
          { q: { id: nmdcId('bsm', 1) }, u: { $inc: { elev: 5 } } },
        ],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ok: 1, n: 11, nModified: 11, backedUp: 11 });
      const stored = await hub.inject({ method: 'GET', url: `/metadata/biosample_set/${nmdcId('bsm', 3)}` });
      expect(stored.json()).toMatchObject({ ecosystem_category: 'Plant-associated', samp_name: 'renamed' });
      expect(
        (await hub.inject({ method: 'GET', url: `/metadata/biosample_set/${nmdcId('bsm', 1)}` })).json().elev,
      ).toBe(5);
      const backups = await hub.app
        .get(MongoService)
        .db.collection('metadata_backups')
        .find({ collection: 'biosample_set', op: 'update', 'doc.id': nmdcId('bsm', 3) })
        .toArray();
      expect(backups).toHaveLength(1);
      expect(backups[0]).toMatchObject({ by: 'user:writer', doc: { ecosystem_category: 'Plants' } });
      expect(backups[0]?.doc.samp_name).toBeUndefined();
    });

    it('refuses an update that would leave documents invalid, with pointers per document, writing nothing', async () => {
      const res = await run(writerToken, {
        update: 'biosample_set',
        updates: [
          {
            q: { id: { $in: [nmdcId('bsm', 5), nmdcId('bsm', 6)] } },
            u: { $set: { depth: 'deep' }, $unset: { name: '' } },
            multi: true,
          },
        ],
      });
      expect(res.statusCode).toBe(422);
      const body = res.json();
      expect(body.code).toBe('schema_invalid');
      expect(body.errors).toEqual(
        expect.arrayContaining([
          { id: nmdcId('bsm', 5), path: '/depth', message: 'must be object' },
          { id: nmdcId('bsm', 5), path: '/name', message: 'is required' },
          { id: nmdcId('bsm', 6), path: '/depth', message: 'must be object' },
        ]),
      );
      const stored = await hub.inject({ method: 'GET', url: `/metadata/biosample_set/${nmdcId('bsm', 5)}` });
      expect(stored.json().name).toBe('Sample 5');
      const names = await hub.app.get(MongoService).db.listCollections({}, { nameOnly: true }).toArray();
      expect(names.filter((c) => c.name.startsWith('_scratch'))).toEqual([]);
    });

    it.each([
      ['a replacement document', { q: {}, u: { name: 'x' } }, /replacement documents are not accepted/],
      ['a change of id', { q: {}, u: { $set: { id: 'nmdc:sty-11-new' } } }, /id and _id cannot be changed/],
      ['a rename onto id', { q: {}, u: { $rename: { name: 'id' } } }, /id and _id cannot be changed/],
      ['an upsert', { q: {}, u: { $set: { name: 'x' } }, upsert: true }, /upserts are not supported/],
      ['a forbidden operator', { q: {}, u: { $setOnInsert: { name: 'x' } } }, /\$setOnInsert is not allowed/],
      ['a positional path', { q: {}, u: { $set: { 'part_of.$': 'x' } } }, /positional/],
      ['a bad filter', { q: { $where: '1' }, u: { $set: { name: 'x' } } }, /\$where is not allowed/],
    ])('refuses %s with 400', async (_name, statement, detail) => {
      const res = await run(writerToken, { update: 'study_set', updates: [statement] });
      expect(res.statusCode).toBe(400);
      expect(JSON.stringify(res.json())).toMatch(detail);
    });

    it('answers 200 with zero counts when nothing matches', async () => {
      const update = await run(writerToken, {
        update: 'study_set',
        updates: [{ q: { name: 'nobody' }, u: { $set: { description: 'x' } } }],
      });
      expect(update.statusCode).toBe(200);
      expect(update.json()).toEqual({ ok: 1, n: 0, nModified: 0, backedUp: 0 });
      const unchanged = await run(writerToken, {
        update: 'study_set',
        updates: [{ q: { id: nmdcId('sty', 1) }, u: { $set: { name: 'Study 1' } } }],
      });
      expect(unchanged.json()).toEqual({ ok: 1, n: 1, nModified: 0, backedUp: 0 });
      const del = await run(writerToken, {
        delete: 'study_set',
        deletes: [{ q: { name: 'nobody' }, limit: 0 }],
      });
      expect(del.statusCode).toBe(200);
      expect(del.json()).toEqual({ ok: 1, n: 0, backedUp: 0 });
    });

    it('deletes the first or every match and backs the documents up', async () => {
      const one = await run(writerToken, {
        delete: 'biosample_set',
        deletes: [{ q: { associated_studies: nmdcId('sty', 2) }, limit: 1 }],
      });
      expect(one.json()).toEqual({ ok: 1, n: 1, backedUp: 1 });
      const all = await run(writerToken, {
        delete: 'biosample_set',
        deletes: [{ q: { associated_studies: nmdcId('sty', 2) }, limit: 0 }],
      });
      expect(all.json()).toEqual({ ok: 1, n: 14, backedUp: 14 });
      const left = await run(readerToken, {
        count: 'biosample_set',
        query: { associated_studies: nmdcId('sty', 2) },
      });
      expect(left.json().n).toBe(0);
      const backups = await hub.app
        .get(MongoService)
        .db.collection('metadata_backups')
        .countDocuments({ collection: 'biosample_set', op: 'delete' });
      expect(backups).toBe(15);
    });
  });
});
