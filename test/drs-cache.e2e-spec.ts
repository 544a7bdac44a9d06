import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, passwordToken } from './support/auth.js';
import { DRS, registerUrlBlob } from './support/drs.js';
import { startTestHub, type TestHub } from './support/harness.js';

/** Polls `read` until it returns `expected` or ten seconds have passed, returning the last value. */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<T> {
  const deadline = Date.now() + 10_000;
  let value = await read();
  while (JSON.stringify(value) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}

describe('the resolved-object cache across api processes', () => {
  let a: TestHub;
  let b: TestHub;
  let siteToken: string;
  let adminToken: string;

  beforeAll(async () => {
    // A cache lifetime far beyond the test, so only the broadcast can explain fresh answers.
    a = await startTestHub({ env: { ...ADMIN_ENV, DRS_CACHE_TTL_MS: '600000' } });
    b = await startTestHub({
      env: {
        DRS_CACHE_TTL_MS: '600000',
        MONGO_DB: a.config.mongo.database,
        PG_SCHEMA: a.config.postgres.schema,
        REDIS_PREFIX: a.config.redis.prefix,
      },
    });
    adminToken = await passwordToken(a, ADMIN.username, ADMIN.password);
    siteToken = (await createSiteWithClient(a, adminToken, 'cache-site')).token;
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  /**
   * Starts one more api process on the same stores (which it leaves in place when it closes). Passport
   * keeps one strategy per name for the whole test process, the last hub's, so tests that start one run
   * last: once it has closed, no hub here can verify a token.
   */
  const sibling = (env: Record<string, string> = {}) =>
    startTestHub({
      keepData: true,
      env: {
        DRS_CACHE_TTL_MS: '600000',
        MONGO_DB: a.config.mongo.database,
        PG_SCHEMA: a.config.postgres.schema,
        REDIS_PREFIX: a.config.redis.prefix,
        ...env,
      },
    });

  /** What a process reports holding in its cache. */
  const cachedCount = async (hub: TestHub): Promise<number> => {
    const text = (await hub.inject({ method: 'GET', url: '/metrics' })).body;
    const line = /^drs_object_cache_entries (\d+)$/m.exec(text);
    if (!line) {
      throw new Error('no drs_object_cache_entries in /metrics');
    }
    return Number(line[1]);
  };

  const changeBehindTheRegistry = (id: string, description: string) =>
    a.app.get(MongoService).collection('objects').updateOne({ id }, { $set: { description } });

  const describeVia = async (hub: TestHub, id: string) => {
    const res = await hub.inject({ method: 'GET', url: `${DRS}/objects/${id}` });
    return res.statusCode === 200 ? (res.json().description as string) : res.statusCode;
  };

  it('serves repeated reads from memory', async () => {
    const blob = await registerUrlBlob(a, siteToken, { description: 'cached' });
    expect(await describeVia(b, blob.id)).toBe('cached');
    await b.app
      .get(MongoService)
      .collection('objects')
      .updateOne({ id: blob.id }, { $set: { description: 'changed behind the registry' } });
    expect(await describeVia(b, blob.id)).toBe('cached');
  });

  it('evicts an object in every process when it is patched, retyped or deleted elsewhere', async () => {
    const blob = await registerUrlBlob(a, siteToken, { description: 'first' });
    expect(await describeVia(b, blob.id)).toBe('first');
    expect(await describeVia(a, blob.id)).toBe('first');

    const patched = await a.inject({
      method: 'PATCH',
      url: `/objects/${blob.id}`,
      headers: bearer(siteToken),
      payload: { description: 'second' },
    });
    expect(patched.statusCode).toBe(200);
    expect(await eventually(() => describeVia(b, blob.id), 'second')).toBe('second');

    const typesVia = async (hub: TestHub) =>
      (await hub.inject({ method: 'GET', url: `/objects/${blob.id}` })).json().types;
    expect(await typesVia(b)).toEqual([]);
    await a.inject({
      method: 'PUT',
      url: `/objects/${blob.id}/types`,
      headers: bearer(siteToken),
      payload: ['test'],
    });
    expect(await eventually(() => typesVia(b), ['test'])).toEqual(['test']);

    const deleted = await a.inject({
      method: 'DELETE',
      url: `/objects/${blob.id}`,
      headers: bearer(adminToken),
    });
    expect(deleted.statusCode).toBe(204);
    expect(await eventually(() => describeVia(b, blob.id), 404)).toBe(404);
  });

  it('stops serving a controlled object to anonymous callers everywhere once it is marked so', async () => {
    const blob = await registerUrlBlob(a, siteToken);
    expect((await b.inject({ method: 'GET', url: `${DRS}/objects/${blob.id}` })).statusCode).toBe(200);
    await a.inject({
      method: 'PATCH',
      url: `/objects/${blob.id}`,
      headers: bearer(siteToken),
      payload: { controlled: true },
    });
    const status = () =>
      b.inject({ method: 'GET', url: `${DRS}/objects/${blob.id}` }).then((r) => r.statusCode);
    expect(await eventually(status, 401)).toBe(401);
  });

  it('never answers with the old object once a PATCH has answered, even with reads in flight', async () => {
    const blob = await registerUrlBlob(a, siteToken, { description: 'before' });
    for (let round = 0; round < 5; round++) {
      const reads = Array.from({ length: 20 }, () => describeVia(a, blob.id));
      const patched = await a.inject({
        method: 'PATCH',
        url: `/objects/${blob.id}`,
        headers: bearer(siteToken),
        payload: { description: `after ${round}` },
      });
      expect(patched.statusCode).toBe(200);
      const afterwards = await Promise.all(Array.from({ length: 20 }, () => describeVia(a, blob.id)));
      expect(new Set(afterwards)).toEqual(new Set([`after ${round}`]));
      await Promise.all(reads);
    }
  });

  it('loads objects on demand only, not the whole registry at start', async () => {
    const blobs = [];
    for (let i = 0; i < 4; i++) {
      blobs.push(await registerUrlBlob(a, siteToken, { description: `on demand ${i}` }));
    }
    const c = await sibling();
    try {
      expect(await cachedCount(c)).toBe(0);
      expect(await describeVia(c, blobs[0]!.id)).toBe('on demand 0');
      // Nothing else arrives in the background: a machine too slow to load the registry in this window
      // would only let the check pass, never fail it.
      const watchUntil = Date.now() + 2000;
      while (Date.now() < watchUntil) {
        expect(await cachedCount(c)).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await c.close();
    }
  });

  it('holds at most DRS_CACHE_MAX_OBJECTS, dropping the least recently used first', async () => {
    const c = await sibling({ DRS_CACHE_MAX_OBJECTS: '3' });
    try {
      const blobs = [];
      for (let i = 0; i < 5; i++) {
        blobs.push(await registerUrlBlob(a, siteToken, { description: `kept ${i}` }));
      }
      const [first, second, third, fourth, fifth] = blobs.map((blob) => blob.id) as [
        string,
        string,
        string,
        string,
        string,
      ];
      for (const id of [first, second, third]) {
        expect(await describeVia(c, id)).toMatch(/^kept/);
      }
      expect(await cachedCount(c)).toBe(3);
      // Reading the first again makes the second the least recently used, so the fourth evicts it.
      expect(await describeVia(c, first)).toBe('kept 0');
      expect(await describeVia(c, fourth)).toBe('kept 3');
      expect(await cachedCount(c)).toBe(3);

      await changeBehindTheRegistry(first, 'first changed');
      await changeBehindTheRegistry(second, 'second changed');
      expect(await describeVia(c, first)).toBe('kept 0');
      expect(await describeVia(c, second)).toBe('second changed');

      const bulk = await c.inject({
        method: 'POST',
        url: `${DRS}/objects`,
        payload: { bulk_object_ids: [third, fourth, fifth] },
      });
      expect(bulk.statusCode).toBe(200);
      expect(await cachedCount(c)).toBe(3);
    } finally {
      await c.close();
    }
  });
});
