import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, ADMIN_ENV, createSiteWithClient, passwordToken } from './support/auth.js';
import { DRS, registerBundle, registerUrlBlob, storeBytes } from './support/drs.js';
import { drsSchemas, expectValid } from './support/drs-schemas.js';
import { startTestHub, type TestHub } from './support/harness.js';

const strict = drsSchemas('1.2');

/**
 * DRS_SPEC_VERSION=1.2: what strict 1.2 clients (the GA4GH compliance suite) validate must pass the 1.2
 * schemas, which refuse unknown fields on service-info, access methods, access URLs, checksums and
 * contents objects.
 */
describe('GA4GH DRS in strict 1.2 mode', () => {
  let hub: TestHub;
  let siteToken: string;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ...ADMIN_ENV, DRS_SPEC_VERSION: '1.2' } });
    const adminToken = await passwordToken(hub, ADMIN.username, ADMIN.password);
    siteToken = (await createSiteWithClient(hub, adminToken, 'compat-site')).token;
  });
  afterAll(async () => {
    await hub.close();
  });

  it('uses schemas strict enough to refuse what DRS 1.3-1.5 add', () => {
    const base = { id: 'x', name: 'x', type: { group: 'org.ga4gh', artifact: 'drs', version: '1.5.0' } };
    const service = { ...base, organization: { name: 'o', url: 'https://o.example' }, version: '1' };
    expect(strict.serviceInfo(service)).toBe(true);
    expect(strict.serviceInfo({ ...service, maxBulkRequestLength: 1 })).toBe(false);
    const object = {
      id: 'x',
      self_uri: 'drs://h/x',
      size: 1,
      created_time: '2025-01-01T00:00:00Z',
      checksums: [{ type: 'md5', checksum: 'a' }],
      access_methods: [{ type: 'https', access_id: 'https' }],
    };
    expect(strict.object(object)).toBe(true);
    expect(
      strict.object({ ...object, access_methods: [{ type: 'https', access_id: 'https', available: true }] }),
    ).toBe(false);
    expect(strict.object({ ...object, size: '1' })).toBe(false);
    expect(strict.object({ ...object, access_methods: [{ type: 'https' }] })).toBe(false);
  });

  it('serves service-info with only 1.2 fields and type.version 1.2.0', async () => {
    const res = await hub.inject({ method: 'GET', url: `${DRS}/service-info` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expectValid(strict.serviceInfo, res.json());
    expect(res.json().type.version).toBe('1.2.0');
    expect(res.json()).not.toHaveProperty('maxBulkRequestLength');
    expect(res.json()).not.toHaveProperty('drs');
  });

  it('serves blobs whose access methods carry only type, access_url, access_id and region', async () => {
    const remote = await registerUrlBlob(hub, siteToken, {
      access_methods: [
        {
          type: 's3',
          access_url: { url: 's3://bucket/key', headers: ['X-Amz: 1'] },
          region: 'us-east-1',
          cloud: 'aws',
          available: false,
        },
      ],
    });
    const stored = await storeBytes(hub, Buffer.from('compat bytes'));
    for (const id of [remote.id, stored]) {
      for (const request of [
        {
          method: 'GET' as const,
          url: `${DRS}/objects/${id}`,
          headers: { 'content-type': 'application/json' },
          payload: '{}',
        },
        { method: 'POST' as const, url: `${DRS}/objects/${id}`, payload: { passports: ['p1'] } },
      ]) {
        const res = await hub.inject(request);
        expect(res.statusCode).toBe(200);
        expectValid(strict.object, res.json());
        for (const method of res.json().access_methods) {
          expect(method.access_url ?? method.access_id).toBeDefined();
        }
      }
    }
    const remoteBody = (await hub.inject({ method: 'GET', url: `${DRS}/objects/${remote.id}` })).json();
    expect(remoteBody.access_methods).toEqual([
      { type: 's3', access_url: { url: 's3://bucket/key', headers: ['X-Amz: 1'] }, region: 'us-east-1' },
    ]);
    const storedBody = (await hub.inject({ method: 'GET', url: `${DRS}/objects/${stored}` })).json();
    expect(storedBody.access_methods).toEqual([{ type: 'https', access_id: 'https' }]);
  });

  it('resolves every access id it advertises into a strict AccessURL, by GET and POST', async () => {
    const stored = await storeBytes(hub, Buffer.from('compat access bytes'));
    const object = (await hub.inject({ method: 'GET', url: `${DRS}/objects/${stored}` })).json();
    for (const method of object.access_methods) {
      const viaGet = await hub.inject({
        method: 'GET',
        url: `${DRS}/objects/${stored}/access/${method.access_id}`,
      });
      expect(viaGet.statusCode).toBe(200);
      expectValid(strict.accessUrl, viaGet.json());
      const viaPost = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects/${stored}/access/${method.access_id}`,
        payload: { passports: ['p1'] },
      });
      expectValid(strict.accessUrl, viaPost.json());
    }
  });

  it('validates bundles with ?expand=True against the strict bundle schema', async () => {
    const blob = await registerUrlBlob(hub, siteToken);
    const inner = await registerBundle(hub, siteToken, [{ name: 'blob.bin', id: blob.id }]);
    const outer = await registerBundle(hub, siteToken, [
      { name: 'inner', id: inner.id },
      { name: 'direct.bin', id: blob.id },
    ]);
    const expanded = await hub.inject({ method: 'GET', url: `${DRS}/objects/${outer.id}?expand=True` });
    expect(expanded.statusCode).toBe(200);
    expectValid(strict.bundle, expanded.json());
    expect(expanded.json().contents[0].contents[0].id).toBe(blob.id);
    const viaPost = await hub.inject({
      method: 'POST',
      url: `${DRS}/objects/${outer.id}`,
      payload: { passports: ['p1'], expand: true },
    });
    expectValid(strict.bundle, viaPost.json());
    expect(viaPost.json().contents[0].contents).toHaveLength(1);
  });

  it('keeps the error shape and the later endpoints working', async () => {
    const missing = await hub.inject({ method: 'GET', url: `${DRS}/objects/sys0none` });
    expect(missing.statusCode).toBe(404);
    expectValid(strict.error, missing.json());
    const blob = await registerUrlBlob(hub, siteToken);
    const bulk = await hub.inject({
      method: 'POST',
      url: `${DRS}/objects`,
      payload: { bulk_object_ids: [blob.id] },
    });
    expect(bulk.statusCode).toBe(200);
    expectValid(strict.bulkObjects, bulk.json());
    const options = await hub.inject({ method: 'OPTIONS', url: `${DRS}/objects/${blob.id}` });
    expectValid(strict.authorizations, options.json());
  });
});
