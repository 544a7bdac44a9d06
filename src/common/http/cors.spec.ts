import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';

import { corsHook } from './cors.js';

const ORIGIN = 'https://app.example.org';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A server with one GET route and one OPTIONS route of its own, as DRS has. */
async function serve(origins: '*' | readonly string[]): Promise<FastifyInstance> {
  app = Fastify();
  app.addHook('onRequest', corsHook(origins));
  app.get('/thing', () => ({ ok: true }));
  app.options('/drs', () => ({ supported_types: ['BearerAuth'] }));
  await app.ready();
  return app;
}

const preflight = (url: string, origin = ORIGIN) => ({
  method: 'OPTIONS' as const,
  url,
  headers: {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization,content-type',
  },
});

describe('corsHook', () => {
  it('lets any origin read answers and their download headers', async () => {
    const server = await serve('*');
    const res = await server.inject({ method: 'GET', url: '/thing', headers: { origin: ORIGIN } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-expose-headers']).toBe(
      'Content-Length, Content-Range, Accept-Ranges, ETag, X-Request-Id, Retry-After',
    );
    expect(res.headers.vary).toBeUndefined();
  });

  it('answers a preflight with 204 and an empty body, also where no OPTIONS route exists', async () => {
    const server = await serve('*');
    for (const url of ['/thing', '/drs', '/nowhere']) {
      const res = await server.inject(preflight(url));
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expect(res.headers['content-length']).toBe('0');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toBe(
        'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
      );
      expect(res.headers['access-control-allow-headers']).toBe('authorization,content-type');
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers.vary).toBe('Access-Control-Request-Headers');
    }
  });

  it('leaves an OPTIONS request that is not a preflight to its route', async () => {
    const server = await serve('*');
    const res = await server.inject({ method: 'OPTIONS', url: '/drs', headers: { origin: ORIGIN } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ supported_types: ['BearerAuth'] });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('names only a listed origin, and varies by Origin', async () => {
    const server = await serve([ORIGIN, 'https://other.example.org']);
    const listed = await server.inject({ method: 'GET', url: '/thing', headers: { origin: ORIGIN } });
    expect(listed.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(listed.headers.vary).toBe('Origin');

    const stranger = await server.inject({
      method: 'GET',
      url: '/thing',
      headers: { origin: 'https://evil.example.com' },
    });
    expect(stranger.statusCode).toBe(200);
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
    expect(stranger.headers.vary).toBe('Origin');

    const strangerPreflight = await server.inject(preflight('/thing', 'https://evil.example.com'));
    expect(strangerPreflight.statusCode).toBe(204);
    expect(strangerPreflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(strangerPreflight.headers.vary).toBe('Origin, Access-Control-Request-Headers');
  });

  it('treats a list that holds * as any origin', async () => {
    const server = await serve([ORIGIN, '*']);
    const res = await server.inject({
      method: 'GET',
      url: '/thing',
      headers: { origin: 'https://x.example' },
    });
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});
