import { readFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ProbeModule } from './support/probe.module.js';
import { startTestHub, type TestHub } from './support/harness.js';

describe('foundation (real FerretDB, PostgreSQL and Redis)', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub({ extraModules: [ProbeModule] });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('reports every dependency up on /health', async () => {
    const res = await hub.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('ok');
    expect(body.checks.mongo.status).toBe('up');
    expect(body.checks.postgres.status).toBe('up');
    expect(body.checks.redis.status).toBe('up');
    expect(body).not.toHaveProperty('failing');
  });

  it('answers /version with the package name and version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    const res = await hub.inject({ method: 'GET', url: '/version' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'runtime-hub', version: pkg.version });
  });

  it('mints an X-Request-Id, keeps a well-formed incoming one and replaces a malformed one', async () => {
    const minted = await hub.inject({ method: 'GET', url: '/version' });
    expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await hub.inject({
      method: 'GET',
      url: '/version',
      headers: { 'x-request-id': 'client-trace.42' },
    });
    expect(kept.headers['x-request-id']).toBe('client-trace.42');
    const replaced = await hub.inject({
      method: 'GET',
      url: '/version',
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(replaced.headers['x-request-id']).not.toBe('bad id\twith spaces');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an unknown route with a problem+json 404', async () => {
    const res = await hub.inject({ method: 'GET', url: '/no/such/route?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const body = res.json();
    expect(body).toMatchObject({
      type: 'urn:runtime-hub:problem:not_found',
      title: 'Not Found',
      status: 404,
      instance: '/no/such/route',
      code: 'not_found',
      requestId: res.headers['x-request-id'],
    });
    expect(body.detail).toContain('GET /no/such/route');
  });

  it('answers unknown DRS routes in the DRS error shape', async () => {
    const res = await hub.inject({ method: 'GET', url: '/ga4gh/drs/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/json');
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['msg', 'status_code']);
    expect(body.status_code).toBe(404);
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('turns malformed JSON into a 400 problem', async () => {
    const res = await hub.inject({
      method: 'POST',
      url: '/probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "abc", "count": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 400, code: 'invalid_json' });
    expect(res.json().detail).toMatch(/not valid JSON/);
  });

  it('lists every bad field when validation fails', async () => {
    const res = await hub.inject({
      method: 'POST',
      url: '/probe/echo',
      payload: { name: 'ab', count: 0, items: [{ id: 1 }], extra: true },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('validation_failed');
    const paths = body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'count', 'items[0].id', 'extra']));
    for (const error of body.errors) {
      expect(typeof error.message).toBe('string');
    }
  });

  it('accepts a valid body', async () => {
    const res = await hub.inject({ method: 'POST', url: '/probe/echo', payload: { name: 'abc', count: 2 } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ name: 'abc', count: 2 });
  });

  it('refuses a body over the limit with 413', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(hub.config.http.bodyLimitBytes + 10), count: 1 });
    const res = await hub.inject({
      method: 'POST',
      url: '/probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: big,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('hides internal errors behind a 500 with a logged requestId and no stack', async () => {
    const res = await hub.inject({ method: 'GET', url: '/probe/boom' });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body).toMatchObject({ status: 500, code: 'internal', title: 'Internal Server Error' });
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/);
    const logged = hub.logs.find((line) => line.includes(body.requestId) && line.includes('"level":50'));
    expect(logged).toBeDefined();
    expect(logged).toContain('hunter2');
    expect(logged).toContain('"stack"');
  });

  it('renders internal errors on DRS routes in the DRS shape', async () => {
    const res = await hub.inject({ method: 'GET', url: '/ga4gh/drs/v1/probe/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ msg: expect.any(String), status_code: 500 });
    expect(res.body).not.toContain('internal detail');
  });

  it('carries domain error extras into the problem document', async () => {
    const res = await hub.inject({ method: 'GET', url: '/probe/conflict' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      code: 'conflict',
      existing_id: 'abc',
      detail: 'The thing already exists',
    });
  });

  it('serves /openapi.json equal to the committed openapi.json', async () => {
    const committed = JSON.parse(await readFile(new URL('../openapi.json', import.meta.url), 'utf8'));
    const res = await hub.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(committed);
    expect(committed.openapi).toMatch(/^3\./);
    expect(committed.components.securitySchemes).toHaveProperty('bearer');
    const ids: string[] = [];
    const paths: Record<string, Record<string, { operationId?: string }>> = committed.paths;
    for (const item of Object.values(paths)) {
      for (const op of Object.values(item)) {
        if (op.operationId) {
          ids.push(op.operationId);
        }
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('serves Redoc with its script from the hub itself', async () => {
    const page = await hub.inject({ method: 'GET', url: '/redoc' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const scripts = [...page.body.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src.startsWith('/')).toBe(true);
      const asset = await hub.inject({ method: 'GET', url: src });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['content-type']).toContain('javascript');
      expect(asset.body.length).toBeGreaterThan(100_000);
    }
    expect(page.body).toContain('spec-url="/openapi.json"');
    expect(page.body).not.toMatch(/https?:\/\//);
  });

  it("serves Redoc's footer logo itself, so the bundle fetches nothing from a CDN", async () => {
    const bundle = await hub.inject({ method: 'GET', url: '/redoc/redoc.standalone.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body).not.toContain('cdn.redoc.ly');
    const logo = /src:"(\/redoc\/[^"]+\.svg)"/.exec(bundle.body)?.[1];
    expect(logo).toBeDefined();
    const image = await hub.inject({ method: 'GET', url: logo! });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toContain('image/svg+xml');
    expect(image.body).toContain('<svg');
  });

  it('serves Swagger UI at /docs and links the console and the API docs from /', async () => {
    const docs = await hub.inject({ method: 'GET', url: '/docs' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger-ui');
    const root = await hub.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(200);
    expect(root.headers['content-type']).toContain('text/html');
    for (const href of ['/console', '/redoc', '/docs', '/openapi.json']) {
      expect(root.body).toContain(`href="${href}"`);
    }
  });

  it('exposes the request histogram by route template on /metrics', async () => {
    await hub.inject({ method: 'GET', url: '/version' });
    await hub.inject({ method: 'GET', url: '/no/such/route' });
    const res = await hub.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/version",status_code="200"\} [1-9]/,
    );
    expect(res.body).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} [1-9]/,
    );
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });
});
