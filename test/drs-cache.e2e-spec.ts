import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, passwordToken } from './support/auth.js';
import { DRS, registerUrlBlob } from './support/drs.js';
import { startTestHub, type TestHub } from './support/harness.js';

/** Polls `read` until it returns `expected` or a second has passed, returning the last value. */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<T> {
  const deadline = Date.now() + 1000;
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
});
