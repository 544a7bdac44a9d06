import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, passwordToken } from './support/auth.js';
import { DRS, registerUrlBlob } from './support/drs.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { biosample, nmdcId, seed, study } from './support/metadata.js';

/** `{"a": {"a": … 1 …}}` nested `depth` levels, built as text so building it cannot overflow either. */
function nestedObject(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function nestedArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

interface Problem {
  status: number;
  code: string;
  detail: string;
  instance: string;
  errors?: { path: string; message: string }[];
}

describe('hostile input gets a clear 4xx, never a 500', () => {
  let hub: TestHub;
  let admin: string;
  let site: string;

  const json = (method: 'POST' | 'PATCH', url: string, body: string, token = admin) =>
    hub.inject({
      method,
      url,
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: body,
    });

  beforeAll(async () => {
    hub = await startTestHub({ env: { ...ADMIN_ENV, TOKEN_RATE_LIMIT: '1000' } });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    site = (await createSiteWithClient(hub, admin, 'probe-site', ['test'])).token;
    await seed(hub, { study_set: [study(1)], biosample_set: [biosample(1, nmdcId('sty', 1))] });
  });
  afterAll(async () => {
    await hub.close();
  });

  describe('JSON bodies', () => {
    it('refuses JSON nested deeper than 64 levels, naming the limit, on every route', async () => {
      const cases: [string, string][] = [
        ['/queries:run', `{"find":"study_set","filter":${nestedObject(10_000)}}`],
        [`${DRS}/objects`, `{"bulk_object_ids":${nestedArray(10_000)}}`],
        ['/objects', nestedObject(65)],
        ['/jobs', `{"workflow":{"id":"test"},"config":${nestedObject(200)}}`],
      ];
      for (const [url, body] of cases) {
        const res = await json('POST', url, body, url === '/jobs' ? site : admin);
        expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(400);
        const text = res.body;
        expect(text).toMatch(/64 levels/);
      }
      // 64 levels is still fine as far as the body goes (the route then judges the content).
      const ok = await json('POST', '/jobs', `{"workflow":{"id":"test"},"config":${nestedObject(60)}}`, site);
      expect(ok.statusCode, ok.body).toBe(201);
    });

    it('names the size limit when a body is too large', async () => {
      const res = await json('POST', '/objects', `{"name":"${'x'.repeat(hub.config.http.bodyLimitBytes)}"}`);
      expect(res.statusCode).toBe(413);
      expect(res.json<Problem>().detail).toContain(String(hub.config.http.bodyLimitBytes));
    });
  });

  describe('multipart bodies', () => {
    const routes = ['/objects:upload', '/metadata/changesheets:validate'];

    it('answers 400 to a multipart body without a boundary', async () => {
      for (const url of routes) {
        const res = await hub.inject({
          method: 'POST',
          url,
          headers: { ...bearer(admin), 'content-type': 'multipart/form-data' },
          payload: '--x\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc\r\n--x--\r\n',
        });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
        expect(res.json<Problem>().detail).toMatch(/multipart/i);
      }
    });

    it('answers 400 to a multipart boundary longer than the form parser searches for', async () => {
      const boundary = 'b'.repeat(300);
      for (const url of routes) {
        const res = await hub.inject({
          method: 'POST',
          url,
          headers: { ...bearer(admin), 'content-type': `multipart/form-data; boundary=${boundary}` },
          payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc\r\n--${boundary}--\r\n`,
        });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      }
    });

    it('answers 400 to a truncated multipart body', async () => {
      for (const url of routes) {
        const field = url === '/objects:upload' ? 'file' : 'uploaded_file';
        const res = await hub.inject({
          method: 'POST',
          url,
          headers: { ...bearer(admin), 'content-type': 'multipart/form-data; boundary=XyZ' },
          payload: `--XyZ\r\nContent-Disposition: form-data; name="${field}"; filename="a.tsv"\r\nContent-Type: text/plain\r\n\r\nid\taction`,
        });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      }
    });

    it('answers 400 to a multipart body whose headers are garbage', async () => {
      for (const url of routes) {
        const res = await hub.inject({
          method: 'POST',
          url,
          headers: { ...bearer(admin), 'content-type': 'multipart/form-data; boundary=XyZ' },
          payload: '--XyZ\r\n\u0000\u0001garbage\r\n\r\n--XyZ--\r\n',
        });
        expect(res.statusCode, `${url}: ${res.body}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(500);
      }
    });
  });

  describe('regular expressions in list filters', () => {
    it('answers 400 naming the filter for a pattern the database cannot compile', async () => {
      const lookahead = JSON.stringify({ name: { $regex: '(?=a)' } });
      const urls = [
        `/studies?filter=${encodeURIComponent('name.search:(?=a)')}`,
        `/biosamples?filter=${encodeURIComponent('name.search:(?<=a)b')}`,
        `/metadata/study_set?filter=${encodeURIComponent(lookahead)}`,
        `/objects?filter=${encodeURIComponent(lookahead)}`,
        `/biosamples?filter=${encodeURIComponent('name.search:(a')}`,
        `/sites?filter=${encodeURIComponent(JSON.stringify({ id: { $regex: '\\1(a)' } }))}`,
        `/capabilities?filter=${encodeURIComponent(JSON.stringify({ id: { $regex: 'a', $options: 'x' } }))}`,
      ];
      for (const url of urls) {
        const res = await hub.inject({ method: 'GET', url, headers: bearer(admin) });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
        expect(res.json<Problem>().detail, url).toMatch(/filter/);
        expect(res.json<Problem>().detail, url).toMatch(/regular expression/);
      }
      const fine = await hub.inject({
        method: 'GET',
        url: `/studies?filter=${encodeURIComponent('name.search:^Stu(dy)? [0-9]+$')}`,
      });
      expect(fine.statusCode, fine.body).toBe(200);
      expect(fine.json<{ results: unknown[] }>().results).toHaveLength(1);
    });
  });

  it('answers 400 for a NUL in a field name inside a filter value, which the driver cannot send', async () => {
    const filter = JSON.stringify({ capability_ids: { 'x\u0000y': 1 } });
    for (const url of [
      `/workflows?filter=${encodeURIComponent(filter)}`,
      `/sites?filter=${encodeURIComponent(filter)}`,
    ]) {
      const res = await hub.inject({ method: 'GET', url });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      expect(res.json<Problem>().detail).toMatch(/NUL/);
    }
  });

  describe('keys stored into documents', () => {
    let operationId: string;

    beforeAll(async () => {
      const job = await json('POST', '/jobs', '{"workflow":{"id":"test"},"config":{}}', site);
      expect(job.statusCode, job.body).toBe(201);
      const claim = await hub.inject({
        method: 'POST',
        url: `/jobs/${job.json<{ id: string }>().id}:claim`,
        headers: bearer(site),
      });
      operationId = claim.json<{ id: string }>().id;
    });

    it('refuses $-prefixed, dotted and NUL keys anywhere in a stored value, naming the key', async () => {
      const bodies: [string, unknown][] = [
        ['$set', { metadata: { $set: 1 } }],
        ['$where', { metadata: { progress: { $where: 'x' } } }],
        ['a\u0000b', { metadata: { 'a\u0000b': 1 } }],
        ['x\u0000', { metadata: { ok: [{ 'x\u0000': 1 }] } }],
        ['a.b', { metadata: { nested: { 'a.b': 1 } } }],
        ['$oid', { done: true, result: { $oid: 'x' } }],
      ];
      for (const [key, body] of bodies) {
        const res = await json('PATCH', `/operations/${operationId}`, JSON.stringify(body), site);
        expect(res.statusCode, `${JSON.stringify(key)}: ${res.body}`).toBe(400);
        expect(res.json<Problem>().detail).toContain(JSON.stringify(key));
      }
      const job = await json('POST', '/jobs', '{"workflow":{"id":"test"},"config":{"$where":"1"}}', site);
      expect(job.statusCode, job.body).toBe(400);
      const fine = await json(
        'PATCH',
        `/operations/${operationId}`,
        '{"metadata":{"progress":{"pct":5}}}',
        site,
      );
      expect(fine.statusCode, fine.body).toBe(200);
      expect(fine.json<{ metadata: Record<string, unknown> }>().metadata.progress).toEqual({ pct: 5 });
    });
  });

  describe('errors raised before routing', () => {
    it('answers a malformed or overlong DRS id in the DRS error shape without echoing the URL', async () => {
      const long = 'x'.repeat(1500);
      for (const url of [
        `${DRS}/objects/%ZZ`,
        `${DRS}/objects/${long}`,
        `${DRS}/objects/${long}/access/https`,
      ]) {
        const res = await hub.inject({ method: 'GET', url });
        expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
        const body = res.json<{ msg: string; status_code: number }>();
        expect(Object.keys(body).sort()).toEqual(['msg', 'status_code']);
        expect(body.status_code).toBe(res.statusCode);
        expect(res.body).not.toContain('%ZZ');
        expect(res.body).not.toContain('xxxxxxxxxx');
        expect(res.body).not.toMatch(/FST_ERR/);
      }
    });

    it('answers the same elsewhere in problem+json', async () => {
      const long = 'y'.repeat(1500);
      for (const url of ['/metadata/ids/%ZZ', `/jobs/${long}`]) {
        const res = await hub.inject({ method: 'GET', url });
        expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        const body = res.json<Problem>();
        expect(body.status).toBe(res.statusCode);
        expect(res.body).not.toContain('%ZZ');
        expect(res.body).not.toContain('yyyyyyyyyy');
        expect(res.body).not.toMatch(/FST_ERR/);
      }
    });
  });

  describe('bearer tokens the hub cannot verify', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const badTokens = (): Record<string, string> => ({
      junk: 'junk',
      expired: jwt.sign({ sub: 'user:admin', jti: 'x1', exp: now() - 10 }, hub.config.secrets.jwtSecret, {
        algorithm: 'HS256',
      }),
      'wrong secret': jwt.sign(
        { sub: 'user:admin', jti: 'x2', exp: now() + 600 },
        'another-secret-of-at-least-32-chars!!',
        {
          algorithm: 'HS256',
        },
      ),
    });

    it('do not block public DRS and metadata reads', async () => {
      const blob = await registerUrlBlob(hub, admin);
      for (const [name, token] of Object.entries(badTokens())) {
        const reads = [
          hub.inject({ method: 'GET', url: `${DRS}/objects/${blob.id}`, headers: bearer(token) }),
          hub.inject({ method: 'GET', url: `${DRS}/service-info`, headers: bearer(token) }),
          hub.inject({
            method: 'POST',
            url: `${DRS}/objects`,
            headers: bearer(token),
            payload: { bulk_object_ids: [blob.id] },
          }),
          hub.inject({ method: 'GET', url: `/metadata/ids/${nmdcId('sty', 1)}`, headers: bearer(token) }),
          hub.inject({ method: 'GET', url: '/studies', headers: bearer(token) }),
          hub.inject({ method: 'GET', url: '/sites', headers: bearer(token) }),
        ];
        for (const res of await Promise.all(reads)) {
          expect(res.statusCode, `${name}: ${res.body}`).toBe(200);
        }
      }
    });

    it('answer protected routes and controlled objects with 401 invalid_token (RFC 6750)', async () => {
      const controlled = await registerUrlBlob(hub, admin, { controlled: true });
      for (const [name, token] of Object.entries(badTokens())) {
        for (const url of ['/users/me', `${DRS}/objects/${controlled.id}`]) {
          const res = await hub.inject({ method: 'GET', url, headers: bearer(token) });
          expect(res.statusCode, `${name} ${url}: ${res.body}`).toBe(401);
          expect(res.headers['www-authenticate']).toMatch(
            /^Bearer realm="runtime-hub", error="invalid_token", error_description="[^"]+"$/,
          );
        }
      }
      const anonymous = await hub.inject({ method: 'GET', url: '/users/me' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="runtime-hub"');
    });
  });

  it('warns loudly at start when it runs on the public built-in secrets', () => {
    const warning = hub.logs
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .find((entry) => entry.msg.startsWith('INSECURE'));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toMatch(/JWT_SECRET and URL_SIGNING_KEY/);
  });

  describe('registry lists', () => {
    it('honour filter on /workflows, /capabilities, /object_types and /triggers', async () => {
      const cases: [string, Record<string, unknown>, string[]][] = [
        ['/workflows', { capability_ids: 'test' }, ['test']],
        ['/capabilities', { id: { $regex: '^metadata' } }, ['metadata-ingest']],
        ['/object_types', { id: { $in: ['test', 'metadata-in'] } }, ['metadata-in', 'test']],
        ['/triggers', { workflow_id: 'test' }, ['test--test']],
      ];
      for (const [url, filter, ids] of cases) {
        const res = await hub.inject({
          method: 'GET',
          url: `${url}?filter=${encodeURIComponent(JSON.stringify(filter))}`,
        });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
        expect(
          res.json<{ id: string }[]>().map((r) => r.id),
          url,
        ).toEqual(ids);
        const bad = await hub.inject({
          method: 'GET',
          url: `${url}?filter=${encodeURIComponent('{"$where":"1"}')}`,
        });
        expect(bad.statusCode, `${url}: ${bad.body}`).toBe(400);
      }
    });
  });

  describe('request logs', () => {
    it('never hold the signature of a signed download URL', async () => {
      const upload = await hub.inject({
        method: 'POST',
        url: '/objects:upload',
        headers: { ...bearer(admin), 'content-type': 'multipart/form-data; boundary=XyZ' },
        payload:
          '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello logs\r\n--XyZ--\r\n',
      });
      expect(upload.statusCode, upload.body).toBe(201);
      const id = upload.json<{ id: string }>().id;
      const access = await hub.inject({ method: 'GET', url: `${DRS}/objects/${id}/access/https` });
      expect(access.statusCode, access.body).toBe(200);
      const signed = new URL(access.json<{ url: string }>().url);
      const sig = signed.searchParams.get('sig');
      expect(sig).toBeTruthy();
      const download = await hub.inject({ method: 'GET', url: `${signed.pathname}${signed.search}` });
      expect(download.statusCode).toBe(200);
      expect(download.body).toBe('hello logs');
      const logs = hub.logs.join('');
      expect(logs).toContain(signed.pathname);
      expect(logs).not.toContain(sig!);
      expect(logs).toContain('sig=REDACTED');
    });
  });

  describe('access URLs', () => {
    it('refuses schemes outside the allow-list, file:// above all', async () => {
      for (const url of [
        'file:///etc/passwd',
        'javascript:alert(1)',
        'gopher://x/y',
        'http://data.example.org/x',
      ]) {
        const res = await registerUrlBlob(hub, admin, {
          access_methods: [{ type: 'https', access_url: { url } }],
        }).then(
          () => 201,
          (error: Error) => Number(/register blob: (\d+)/.exec(error.message)?.[1]),
        );
        expect(res, url).toBe(400);
      }
      for (const url of [
        'https://data.example.org/x',
        's3://bucket/key',
        'gs://b/k',
        'drs://host/id',
        'ftp://h/f',
        'globus://e/p',
        'http://127.0.0.1:9000/x',
      ]) {
        await expect(
          registerUrlBlob(hub, admin, { access_methods: [{ type: 'https', access_url: { url } }] }),
          url,
        ).resolves.toBeTruthy();
      }
    });
  });
});
