import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isValidMintedId } from '../src/common/ids/ids.js';
import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, createUser, passwordToken } from './support/auth.js';
import { DRS, registerBundle, registerUrlBlob, storeBytes, type Registered } from './support/drs.js';
import { drsSchemas, expectValid } from './support/drs-schemas.js';
import { startTestHub, type TestHub } from './support/harness.js';

const HOST = 'drs.test.example';
const schemas = drsSchemas('1.5');

function bundleChecksum(members: Registered[], type: string, algorithm: string): string {
  const values = members.map((m) => m.checksums.find((c) => c.type === type)!.checksum).sort();
  return createHash(algorithm).update(values.join('')).digest('hex');
}

describe('GA4GH DRS 1.5 and the object registry', () => {
  let hub: TestHub;
  let adminToken: string;
  let siteToken: string;
  let otherSiteToken: string;
  let reader: { username: string; token: string };
  let stranger: { username: string; token: string };
  let objectsAdmin: { username: string; token: string };

  beforeAll(async () => {
    hub = await startTestHub({
      env: {
        ...ADMIN_ENV,
        PUBLIC_HOSTNAME: HOST,
        PUBLIC_BASE_URL: 'https://drs.test.example',
        DRS_MAX_BULK_REQUEST_LENGTH: '6',
        TOKEN_RATE_LIMIT: '1000',
      },
    });
    adminToken = await passwordToken(hub, ADMIN.username, ADMIN.password);
    siteToken = (await createSiteWithClient(hub, adminToken, 'site-a')).token;
    otherSiteToken = (await createSiteWithClient(hub, adminToken, 'site-b')).token;
    reader = await createUser(hub, adminToken, 'reader');
    stranger = await createUser(hub, adminToken, 'stranger');
    objectsAdmin = await createUser(hub, adminToken, 'curator');
    const granted = await hub.inject({
      method: 'POST',
      url: '/admin/allowances',
      headers: bearer(adminToken),
      payload: { username: 'curator', action: 'objects:admin' },
    });
    expect(granted.statusCode).toBe(201);
  });
  afterAll(async () => {
    await hub.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    hub.inject({ method: 'GET', url, headers });

  describe('service-info', () => {
    it('describes the service in the 1.5 shape with counts computed from the store', async () => {
      const blob = await registerUrlBlob(hub, siteToken);
      const bundle = await registerBundle(hub, siteToken, [{ name: 'only', id: blob.id }]);
      const res = await get(`${DRS}/service-info`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json();
      expectValid(schemas.serviceInfo, body);
      expect(body.type).toEqual({ group: 'org.ga4gh', artifact: 'drs', version: '1.5.0' });
      expect(body.id).toBe('example.test.drs');
      expect(body.environment).toBe('test');
      expect(body.maxBulkRequestLength).toBe(6);

      const mongo = hub.app.get(MongoService);
      const docs = await mongo.collection('objects').find({}).toArray();
      expect(body.drs).toEqual({
        maxBulkRequestLength: 6,
        objectCount: docs.length,
        totalObjectSize: docs.filter((d) => !d.is_bundle).reduce((sum, d) => sum + (d.size as number), 0),
      });
      expect(docs.map((d) => d.id)).toEqual(expect.arrayContaining([blob.id, bundle.id]));
    });
  });

  describe('objects', () => {
    it('registers a blob with a minted id and serves it as a valid DRS object', async () => {
      const blob = await registerUrlBlob(hub, siteToken, {
        description: 'reads',
        aliases: ['ext:1'],
        mime_type: 'application/gzip',
        region: undefined,
      });
      expect(blob.id).toMatch(/^sys0/);
      expect(isValidMintedId(blob.id)).toBe(true);
      expect(blob).toMatchObject({
        mgr_site: 'site-a',
        created_by: 'site:site-a',
        controlled: false,
        types: [],
      });

      const res = await get(`${DRS}/objects/${blob.id}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expectValid(schemas.object, body);
      expect(body).toMatchObject({
        id: blob.id,
        self_uri: `drs://${HOST}/${blob.id}`,
        size: blob.size,
        version: '1',
        description: 'reads',
        aliases: ['ext:1'],
        mime_type: 'application/gzip',
      });
      expect(typeof body.size).toBe('number');
      expect(body.access_methods).toEqual([
        { type: 'https', access_url: { url: expect.stringMatching(/^https:\/\/data\.example\.org\//) } },
      ]);
      expect(body).not.toHaveProperty('contents');
    });

    it('answers a GET carrying a {} JSON body, as the compliance suite sends it', async () => {
      const blob = await registerUrlBlob(hub, siteToken);
      const res = await hub.inject({
        method: 'GET',
        url: `${DRS}/objects/${blob.id}`,
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().id).toBe(blob.id);
    });

    it('decodes percent-encoded ids and refuses ids outside the unreserved characters', async () => {
      const blob = await registerUrlBlob(hub, siteToken);
      const encoded = [...blob.id].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('');
      const res = await get(`${DRS}/objects/${encoded}`);
      expect(res.statusCode).toBe(200);
      expect(res.json().id).toBe(blob.id);

      const slash = await get(`${DRS}/objects/a%2Fb`);
      expect(slash.statusCode).toBe(400);
      expectValid(schemas.error, slash.json());
      expect(slash.json().msg).toMatch(/not an object id/);

      const tilde = await get(`${DRS}/objects/sys0~missing`);
      expect(tilde.statusCode).toBe(404);
    });

    it('answers unknown ids with a 404 in the DRS error shape', async () => {
      const res = await get(`${DRS}/objects/sys0nothere00`);
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expectValid(schemas.error, res.json());
      expect(res.json()).toEqual({ msg: 'No object with id "sys0nothere00"', status_code: 404 });
    });

    it('POST /objects/{id} takes expand and passports in the body', async () => {
      const blob = await registerUrlBlob(hub, siteToken);
      const res = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects/${blob.id}`,
        payload: { expand: true, passports: ['eyJhbGciOi.x.y'] },
      });
      expect(res.statusCode).toBe(200);
      expectValid(schemas.object, res.json());
      const bad = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects/${blob.id}`,
        payload: { passports: 'x' },
      });
      expect(bad.statusCode).toBe(400);
      expectValid(schemas.error, bad.json());
      expect(bad.json().msg).toMatch(/passports/);
    });

    it('refuses a blob checksum that is already registered, naming the holder', async () => {
      const blob = await registerUrlBlob(hub, siteToken);
      const sha = blob.checksums.find((c) => c.type === 'sha-256')!.checksum;
      const res = await hub.inject({
        method: 'POST',
        url: '/objects',
        headers: bearer(otherSiteToken),
        payload: {
          size: 1,
          checksums: [{ type: 'SHA256', checksum: sha.toUpperCase() }],
          access_methods: [{ type: 's3', access_url: { url: 's3://bucket/key' }, region: 'us-east-1' }],
        },
      });
      expect(res.statusCode).toBe(409);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'duplicate_checksum', existing_id: blob.id });
      expect(res.json().detail).toContain(blob.id);
    });

    it('says precisely what is wrong with a registration', async () => {
      const res = await hub.inject({
        method: 'POST',
        url: '/objects',
        headers: bearer(siteToken),
        payload: {
          name: 'bad name!',
          checksums: [{ type: 'md5', checksum: 'abc' }],
          access_methods: [{ type: 'https', access_id: 'x' }],
        },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain('name');

      const semantic = await hub.inject({
        method: 'POST',
        url: '/objects',
        headers: bearer(siteToken),
        payload: {
          checksums: [{ type: 'md5', checksum: 'abc' }],
          access_methods: [{ type: 'https', access_id: 'x' }],
        },
      });
      expect(semantic.statusCode).toBe(400);
      expect(semantic.json().errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: 'size' })]),
      );
      const checksumProblem = await hub.inject({
        method: 'POST',
        url: '/objects',
        headers: bearer(siteToken),
        payload: {
          size: 3,
          checksums: [{ type: 'md5', checksum: 'abc' }],
          access_methods: [{ type: 'https', access_id: 'x' }],
        },
      });
      expect(checksumProblem.statusCode).toBe(400);
      expect(checksumProblem.json().detail).toMatch(/32 hexadecimal digits/);
    });

    it('lets only sites and objects admins register', async () => {
      const payload = { size: 1, checksums: [{ type: 'md5', checksum: 'a'.repeat(32) }] };
      expect((await hub.inject({ method: 'POST', url: '/objects', payload })).statusCode).toBe(401);
      const forbidden = await hub.inject({
        method: 'POST',
        url: '/objects',
        headers: bearer(reader.token),
        payload,
      });
      expect(forbidden.statusCode).toBe(403);
      const curator = await registerUrlBlob(hub, objectsAdmin.token);
      expect(curator).toMatchObject({ mgr_site: 'runtime-hub', created_by: 'user:curator' });
    });
  });

  describe('bundles', () => {
    let b1: Registered;
    let b2: Registered;
    let b3: Registered;
    let inner: Registered;
    let middle: Registered;
    let outer: Registered;

    beforeAll(async () => {
      [b1, b2, b3] = (await Promise.all([1, 2, 3].map(() => registerUrlBlob(hub, siteToken)))) as [
        Registered,
        Registered,
        Registered,
      ];
      inner = await registerBundle(hub, siteToken, [
        { name: 'one.bin', id: b1.id },
        { name: 'two.bin', id: b2.id },
      ]);
      middle = await registerBundle(hub, siteToken, [
        { name: 'inner', id: inner.id },
        { name: 'three.bin', id: b3.id },
      ]);
      outer = await registerBundle(hub, siteToken, [
        { name: 'middle', id: middle.id },
        { name: 'again.bin', id: b1.id },
      ]);
    });

    it('computes size and checksums by the spec rule', () => {
      expect(inner.size).toBe(b1.size + b2.size);
      expect(outer.size).toBe(b1.size + b2.size + b3.size + b1.size);
      expect(inner.checksums).toEqual([
        { type: 'md5', checksum: bundleChecksum([b1, b2], 'md5', 'md5') },
        { type: 'sha-256', checksum: bundleChecksum([b1, b2], 'sha-256', 'sha256') },
      ]);
      expect(outer.checksums).toContainEqual({
        type: 'md5',
        checksum: bundleChecksum([middle, b1], 'md5', 'md5'),
      });
    });

    it('lists only direct members without expand', async () => {
      const res = await get(`${DRS}/objects/${outer.id}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expectValid(schemas.bundle, body);
      expect(body.contents).toEqual([
        { name: 'middle', id: middle.id, drs_uri: [`drs://${HOST}/${middle.id}`] },
        { name: 'again.bin', id: b1.id, drs_uri: [`drs://${HOST}/${b1.id}`] },
      ]);
      expect(body).not.toHaveProperty('access_methods');
    });

    it('expands three levels for expand=true, True and 1, and refuses other values', async () => {
      for (const value of ['true', 'True', '1']) {
        const res = await get(`${DRS}/objects/${outer.id}?expand=${value}`);
        expect(res.statusCode).toBe(200);
        const body = res.json();
        expectValid(schemas.bundle, body);
        const middleNode = body.contents[0];
        expect(middleNode.id).toBe(middle.id);
        expect(middleNode.contents[0]).toMatchObject({ name: 'inner', id: inner.id });
        expect(middleNode.contents[0].contents.map((c: { id: string }) => c.id)).toEqual([b1.id, b2.id]);
        expect(middleNode.contents[0].contents[0]).not.toHaveProperty('contents');
        expect(body.contents[1]).not.toHaveProperty('contents');
      }
      const flat = await get(`${DRS}/objects/${outer.id}?expand=false`);
      expect(flat.json().contents[0]).not.toHaveProperty('contents');
      const bad = await get(`${DRS}/objects/${outer.id}?expand=maybe`);
      expect(bad.statusCode).toBe(400);
      expectValid(schemas.error, bad.json());
    });

    it('refuses members that do not exist and nesting deeper than 32', async () => {
      const missing = await hub.inject({
        method: 'POST',
        url: '/objects',
        headers: bearer(siteToken),
        payload: { contents: [{ name: 'x', id: 'sys0missing00' }] },
      });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().detail).toContain('sys0missing00');

      let top = b1;
      for (let depth = 1; depth <= 32; depth++) {
        top = await registerBundle(hub, siteToken, [{ name: 'level', id: top.id }]);
      }
      const tooDeep = await hub.inject({
        method: 'POST',
        url: '/objects',
        headers: bearer(siteToken),
        payload: { contents: [{ name: 'level', id: top.id }] },
      });
      expect(tooDeep.statusCode).toBe(400);
      expect(tooDeep.json().detail).toMatch(/at most 32 levels/);
      const deepest = await get(`${DRS}/objects/${top.id}?expand=true`);
      expect(deepest.statusCode).toBe(200);
    });

    it('refuses to expand a cycle that data imported around the registry created', async () => {
      const mongo = hub.app.get(MongoService);
      const objects = mongo.collection<{ _id: string } & Record<string, unknown>>('objects');
      const base = {
        size: 1,
        created_time: new Date().toISOString(),
        updated_time: new Date().toISOString(),
        version: 1,
        checksums: [{ type: 'md5', checksum: 'b'.repeat(32) }],
        access_methods: [],
        depth: 1,
        is_bundle: true,
        aliases: [],
        types: [],
        controlled: false,
        readers: [],
        mgr_site: 'site-a',
        created_by: 'import',
      };
      await objects.insertMany([
        {
          ...base,
          _id: 'cycle-a',
          id: 'cycle-a',
          contents: [{ name: 'b', id: 'cycle-b' }],
          child_ids: ['cycle-b'],
        },
        {
          ...base,
          _id: 'cycle-b',
          id: 'cycle-b',
          contents: [{ name: 'a', id: 'cycle-a' }],
          child_ids: ['cycle-a'],
        },
      ]);
      const res = await get(`${DRS}/objects/cycle-a?expand=true`);
      expect(res.statusCode).toBe(400);
      expectValid(schemas.error, res.json());
      expect(res.json().msg).toMatch(/cycle \(cycle-a → cycle-b → cycle-a\)/);
      expect((await get(`${DRS}/objects/cycle-a`)).statusCode).toBe(200);
    });
  });

  describe('controlled objects', () => {
    let secret: Registered;

    beforeAll(async () => {
      secret = await registerUrlBlob(hub, siteToken, { controlled: true, readers: ['user:reader'] });
    });

    it('needs a bearer token (401) of someone allowed (403)', async () => {
      const anonymous = await get(`${DRS}/objects/${secret.id}`);
      expect(anonymous.statusCode).toBe(401);
      expectValid(schemas.error, anonymous.json());
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);

      const wrong = await get(`${DRS}/objects/${secret.id}`, bearer(stranger.token));
      expect(wrong.statusCode).toBe(403);
      expectValid(schemas.error, wrong.json());
      const wrongSite = await get(`${DRS}/objects/${secret.id}`, bearer(otherSiteToken));
      expect(wrongSite.statusCode).toBe(403);

      for (const token of [reader.token, siteToken, objectsAdmin.token, adminToken]) {
        const allowed = await get(`${DRS}/objects/${secret.id}`, bearer(token));
        expect(allowed.statusCode).toBe(200);
        const methods = allowed.json().access_methods;
        expectValid(schemas.object, allowed.json());
        expect(methods).toHaveLength(1);
      }
      const registry = await get(`/objects/${secret.id}`);
      expect(registry.statusCode).toBe(401);
      expect(registry.headers['content-type']).toContain('application/problem+json');
    });

    it('tells clients over OPTIONS how to authorize, without credentials', async () => {
      const controlled = await hub.inject({ method: 'OPTIONS', url: `${DRS}/objects/${secret.id}` });
      expect(controlled.statusCode).toBe(200);
      expectValid(schemas.authorizations, controlled.json());
      expect(controlled.json()).toEqual({
        drs_object_id: secret.id,
        supported_types: ['BearerAuth'],
        bearer_auth_issuers: ['https://drs.test.example'],
      });
      const open = await registerUrlBlob(hub, siteToken);
      const res = await hub.inject({ method: 'OPTIONS', url: `${DRS}/objects/${open.id}` });
      expect(res.json()).toEqual({ drs_object_id: open.id, supported_types: ['None'] });
      const missing = await hub.inject({ method: 'OPTIONS', url: `${DRS}/objects/sys0nope` });
      expect(missing.statusCode).toBe(404);
      expectValid(schemas.error, missing.json());
    });

    it('answers DRS OPTIONS from browsers too, while real CORS preflights get a 204', async () => {
      const drsCall = await hub.inject({
        method: 'OPTIONS',
        url: `${DRS}/objects/${secret.id}`,
        headers: { origin: 'https://app.example.org' },
      });
      expect(drsCall.statusCode).toBe(200);
      expect(drsCall.headers['access-control-allow-origin']).toBe('*');
      expect(drsCall.json().supported_types).toEqual(['BearerAuth']);

      const preflight = await hub.inject({
        method: 'OPTIONS',
        url: `${DRS}/objects/${secret.id}`,
        headers: {
          origin: 'https://app.example.org',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-methods']).toContain('GET');
      expect(preflight.headers['access-control-allow-headers']).toBe('authorization');
    });

    it('hides controlled objects from lists for those who may not read them', async () => {
      const filter = encodeURIComponent(JSON.stringify({ id: secret.id }));
      const anonymous = await get(`/objects?filter=${filter}`);
      expect(anonymous.json().resources).toEqual([]);
      const stranger_ = await get(`/objects?filter=${filter}`, bearer(stranger.token));
      expect(stranger_.json().resources).toEqual([]);
      for (const token of [reader.token, siteToken, objectsAdmin.token]) {
        const listed = await get(`/objects?filter=${filter}`, bearer(token));
        expect(listed.json().resources.map((r: { id: string }) => r.id)).toEqual([secret.id]);
      }
    });
  });

  describe('bulk', () => {
    it('resolves what it can and groups the rest by error code (200 regardless)', async () => {
      const [one, two] = await Promise.all([
        registerUrlBlob(hub, siteToken),
        registerUrlBlob(hub, siteToken),
      ]);
      const secret = await registerUrlBlob(hub, siteToken, { controlled: true });
      const res = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects`,
        payload: { bulk_object_ids: [one.id, 'sys0missing00', two.id, 'bad/id', secret.id, one.id] },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expectValid(schemas.bulkObjects, body);
      expect(body.summary).toEqual({ requested: 5, resolved: 2, unresolved: 3 });
      expect(body.unresolved_drs_objects).toEqual([
        { error_code: 400, object_ids: ['bad/id'] },
        { error_code: 401, object_ids: [secret.id] },
        { error_code: 404, object_ids: ['sys0missing00'] },
      ]);
      expect(body.resolved_drs_object.map((o: { id: string }) => o.id)).toEqual([one.id, two.id]);

      const withToken = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects`,
        headers: bearer(siteToken),
        payload: { bulk_object_ids: [secret.id] },
      });
      expect(withToken.json().summary).toEqual({ requested: 1, resolved: 1, unresolved: 0 });
    });

    it('expands bundles in bulk with ?expand=true', async () => {
      const blob = await registerUrlBlob(hub, siteToken);
      const inner = await registerBundle(hub, siteToken, [{ name: 'b', id: blob.id }]);
      const outer = await registerBundle(hub, siteToken, [{ name: 'i', id: inner.id }]);
      const res = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects?expand=True`,
        payload: { bulk_object_ids: [outer.id] },
      });
      expectValid(schemas.bulkObjects, res.json());
      expect(res.json().resolved_drs_object[0].contents[0].contents[0].id).toBe(blob.id);
    });

    it('refuses more ids than maxBulkRequestLength with 413, and an empty list with 400', async () => {
      const ids = Array.from({ length: 7 }, (_, i) => `sys0x${i}`);
      const tooMany = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects`,
        payload: { bulk_object_ids: ids },
      });
      expect(tooMany.statusCode).toBe(413);
      expectValid(schemas.error, tooMany.json());
      expect(tooMany.json().msg).toMatch(/at most 6/);
      const empty = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects`,
        payload: { bulk_object_ids: [] },
      });
      expect(empty.statusCode).toBe(400);
      expectValid(schemas.error, empty.json());
      const access = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects/access`,
        payload: { bulk_object_access_ids: [{ bulk_object_id: 'x', bulk_access_ids: ids }] },
      });
      expect(access.statusCode).toBe(413);
      const options = await hub.inject({
        method: 'OPTIONS',
        url: `${DRS}/objects`,
        payload: { bulk_object_ids: ids },
      });
      expect(options.statusCode).toBe(413);
    });

    it('answers bulk OPTIONS with one Authorizations per object', async () => {
      const open = await registerUrlBlob(hub, siteToken);
      const secret = await registerUrlBlob(hub, siteToken, { controlled: true });
      const res = await hub.inject({
        method: 'OPTIONS',
        url: `${DRS}/objects`,
        payload: { bulk_object_ids: [open.id, secret.id, 'sys0gone'] },
      });
      expect(res.statusCode).toBe(200);
      expectValid(schemas.bulkAuthorizations, res.json());
      expect(res.json().resolved_drs_object).toEqual([
        { drs_object_id: open.id, supported_types: ['None'] },
        {
          drs_object_id: secret.id,
          supported_types: ['BearerAuth'],
          bearer_auth_issuers: ['https://drs.test.example'],
        },
      ]);
      expect(res.json().unresolved_drs_objects).toEqual([{ error_code: 404, object_ids: ['sys0gone'] }]);
    });

    it('signs access URLs in bulk and reports unknown access ids', async () => {
      const stored = await storeBytes(hub, Buffer.from('bulk access bytes'));
      const remote = await registerUrlBlob(hub, siteToken);
      const res = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects/access`,
        payload: {
          bulk_object_access_ids: [
            { bulk_object_id: stored, bulk_access_ids: ['https', 'nope'] },
            { bulk_object_id: remote.id, bulk_access_ids: ['https'] },
          ],
        },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expectValid(schemas.bulkAccess, body);
      expect(body.summary).toEqual({ requested: 3, resolved: 1, unresolved: 2 });
      expect(body.resolved_drs_object_access_urls).toEqual([
        {
          drs_object_id: stored,
          drs_access_id: 'https',
          url: expect.stringMatching(
            new RegExp(`^https://drs\\.test\\.example/blobs/${stored}\\?exp=\\d+&sig=[0-9a-f]{64}$`),
          ),
        },
      ]);
      expect(body.unresolved_drs_objects).toEqual([{ error_code: 404, object_ids: [stored, remote.id] }]);
    });
  });

  describe('access', () => {
    it('turns the hub access id into a signed URL, by GET and by POST', async () => {
      const id = await storeBytes(hub, Buffer.from('access bytes'));
      const object = (await get(`${DRS}/objects/${id}`)).json();
      expectValid(schemas.object, object);
      expect(object.access_methods).toEqual([
        { type: 'https', access_id: 'https', available: true, authorizations: { supported_types: ['None'] } },
      ]);
      const viaGet = await get(`${DRS}/objects/${id}/access/https`);
      expect(viaGet.statusCode).toBe(200);
      expectValid(schemas.accessUrl, viaGet.json());
      const viaPost = await hub.inject({
        method: 'POST',
        url: `${DRS}/objects/${id}/access/https`,
        payload: { passports: [] },
      });
      expect(viaPost.statusCode).toBe(200);
      expect(viaPost.json().url).toMatch(new RegExp(`^https://drs\\.test\\.example/blobs/${id}\\?exp=`));
      const unknown = await get(`${DRS}/objects/${id}/access/s3`);
      expect(unknown.statusCode).toBe(404);
      expectValid(schemas.error, unknown.json());
      expect(unknown.json().msg).toMatch(/access ids are: https/);
    });
  });

  describe('registry', () => {
    it('lists with filters, projections and signed page tokens', async () => {
      const blobs = await Promise.all(
        [1, 2, 3].map(() => registerUrlBlob(hub, siteToken, { description: 'paged' })),
      );
      const filter = encodeURIComponent(JSON.stringify({ description: 'paged' }));
      const first = await get(`/objects?filter=${filter}&max_page_size=2&projection=name,size`);
      expect(first.statusCode).toBe(200);
      const page = first.json();
      expect(page.resources).toHaveLength(2);
      expect(Object.keys(page.resources[0]).sort()).toEqual(['id', 'name', 'size']);
      const second = await get(
        `/objects?filter=${filter}&max_page_size=2&projection=name,size&page_token=${page.next_page_token}`,
      );
      const ids = [...page.resources, ...second.json().resources].map((r: { id: string }) => r.id);
      expect(ids).toEqual(blobs.map((b) => b.id).sort());
      expect(second.json()).not.toHaveProperty('next_page_token');
      const badOperator = await get(`/objects?filter=${encodeURIComponent('{"size": {"$where": "1"}}')}`);
      expect(badOperator.statusCode).toBe(400);
    });

    it('patches the fields it allows, for the managing site and objects admins only', async () => {
      const blob = await registerUrlBlob(hub, siteToken, { description: 'before', mime_type: 'text/plain' });
      await get(`${DRS}/objects/${blob.id}`);
      const other = await hub.inject({
        method: 'PATCH',
        url: `/objects/${blob.id}`,
        headers: bearer(otherSiteToken),
        payload: { description: 'hijacked' },
      });
      expect(other.statusCode).toBe(403);
      const anonymous = await hub.inject({ method: 'PATCH', url: `/objects/${blob.id}`, payload: {} });
      expect(anonymous.statusCode).toBe(401);

      const res = await hub.inject({
        method: 'PATCH',
        url: `/objects/${blob.id}`,
        headers: bearer(siteToken),
        payload: {
          description: 'after',
          mime_type: null,
          aliases: ['doi:10.1/x'],
          access_methods: [{ type: 'gs', access_url: { url: 'gs://bucket/object' } }],
        },
      });
      expect(res.statusCode).toBe(200);
      const drs = (await get(`${DRS}/objects/${blob.id}`)).json();
      expect(drs).toMatchObject({ description: 'after', aliases: ['doi:10.1/x'], version: '2' });
      expect(drs).not.toHaveProperty('mime_type');
      expect(drs.access_methods).toEqual([{ type: 'gs', access_url: { url: 'gs://bucket/object' } }]);
      expect(drs.updated_time >= drs.created_time).toBe(true);

      const curator = await hub.inject({
        method: 'PATCH',
        url: `/objects/${blob.id}`,
        headers: bearer(objectsAdmin.token),
        payload: { access_methods: [] },
      });
      expect(curator.statusCode).toBe(400);
      expect(curator.json().detail).toMatch(/at least one access method/);
      const unknownField = await hub.inject({
        method: 'PATCH',
        url: `/objects/${blob.id}`,
        headers: bearer(objectsAdmin.token),
        payload: { size: 5 },
      });
      expect(unknownField.statusCode).toBe(400);
      expect(unknownField.json().errors[0].message).toMatch(/size is not a recognised field/);
    });

    it('deletes with objects:admin, never while a bundle lists the object', async () => {
      const blob = await registerUrlBlob(hub, siteToken);
      const bundle = await registerBundle(hub, siteToken, [{ name: 'm', id: blob.id }]);
      const bySite = await hub.inject({
        method: 'DELETE',
        url: `/objects/${blob.id}`,
        headers: bearer(siteToken),
      });
      expect(bySite.statusCode).toBe(403);
      const inBundle = await hub.inject({
        method: 'DELETE',
        url: `/objects/${blob.id}`,
        headers: bearer(objectsAdmin.token),
      });
      expect(inBundle.statusCode).toBe(409);
      expect(inBundle.json()).toMatchObject({ code: 'object_in_bundle', bundle_ids: [bundle.id] });
      for (const id of [bundle.id, blob.id]) {
        const deleted = await hub.inject({
          method: 'DELETE',
          url: `/objects/${id}`,
          headers: bearer(objectsAdmin.token),
        });
        expect(deleted.statusCode).toBe(204);
      }
      expect((await get(`${DRS}/objects/${blob.id}`)).statusCode).toBe(404);
      expect((await get(`/objects/${blob.id}`)).statusCode).toBe(404);
      const again = await hub.inject({
        method: 'POST',
        url: '/objects',
        headers: bearer(siteToken),
        payload: {
          size: blob.size,
          checksums: blob.checksums,
          access_methods: [{ type: 'https', access_url: { url: 'https://x.example.org/y' } }],
        },
      });
      expect(again.statusCode).toBe(201);
    });

    it('labels objects with known types only, and only for those who manage them', async () => {
      const types = await get('/object_types');
      expect(types.statusCode).toBe(200);
      expect(types.json().map((t: { id: string }) => t.id)).toEqual(
        expect.arrayContaining(['metadata-changesheet', 'metadata-in', 'test']),
      );
      const blob = await registerUrlBlob(hub, siteToken, { types: ['test'] });
      expect((await get(`/objects/${blob.id}/types`)).json().map((t: { id: string }) => t.id)).toEqual([
        'test',
      ]);

      const url = `/objects/${blob.id}/types`;
      expect((await hub.inject({ method: 'PUT', url, payload: ['metadata-in'] })).statusCode).toBe(401);
      expect(
        (await hub.inject({ method: 'PUT', url, headers: bearer(otherSiteToken), payload: ['metadata-in'] }))
          .statusCode,
      ).toBe(403);
      const unknown = await hub.inject({ method: 'PUT', url, headers: bearer(siteToken), payload: ['nope'] });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().detail).toMatch(/nope/);
      const notArray = await hub.inject({
        method: 'PUT',
        url,
        headers: bearer(siteToken),
        payload: { types: [] },
      });
      expect(notArray.statusCode).toBe(400);
      const ok = await hub.inject({
        method: 'PUT',
        url,
        headers: bearer(siteToken),
        payload: ['metadata-in', 'test', 'test'],
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().types).toEqual(['metadata-in', 'test']);
      const listed = await get(url);
      expect(listed.json().map((t: { id: string }) => t.id)).toEqual(['metadata-in', 'test']);
      expect(listed.json()[0]).toMatchObject({ name: expect.any(String), created_at: expect.any(String) });
    });
  });
});
