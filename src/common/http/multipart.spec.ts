import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';

import { registerMultipart } from './multipart.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const BOUNDARY = 'hub-test-boundary';
const form = (fields: Record<string, string>, file: string): string =>
  [
    ...Object.entries(fields).map(
      ([name, value]) =>
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    ),
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n` +
      `Content-Type: text/plain\r\n\r\n${file}\r\n--${BOUNDARY}--\r\n`,
  ].join('');

describe('registerMultipart', () => {
  it('streams form parts and keeps the request API', async () => {
    app = Fastify();
    registerMultipart(app, { limits: { fileSize: 16 } });
    app.post('/upload', async (request) => {
      const seen: string[] = [];
      for await (const part of request.parts()) {
        seen.push(
          part.type === 'file'
            ? `${part.fieldname}=${(await part.toBuffer()).toString()}`
            : `${part.fieldname}=${String(part.value)}`,
        );
      }
      return { multipart: request.isMultipart(), seen };
    });
    app.get('/plain', () => ({ ok: true }));
    await app.ready();

    const res = await app.inject({
      method: 'POST',
      url: '/upload',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      payload: form({ name: 'x' }, 'hello'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ multipart: true, seen: ['name=x', 'file=hello'] });
    expect((await app.inject({ method: 'GET', url: '/plain' })).json()).toEqual({ ok: true });
  });

  it('adds nothing to a request that sends no form', async () => {
    // The stock plugin's onRequest hook adds a 'close' listener to every response.
    const closeListeners = async (withMultipart: boolean): Promise<number> => {
      const server = Fastify();
      if (withMultipart) {
        registerMultipart(server, {});
      }
      server.get('/plain', (_request, reply) => ({ listeners: reply.raw.listenerCount('close') }));
      const res = await server.inject({ method: 'GET', url: '/plain' });
      await server.close();
      return res.json<{ listeners: number }>().listeners;
    };
    expect(await closeListeners(true)).toBe(await closeListeners(false));
  });

  it('keeps the plugin limits', async () => {
    app = Fastify();
    registerMultipart(app, { limits: { fileSize: 4 } });
    app.post('/upload', async (request) => {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          await part.toBuffer();
        }
      }
      return { ok: true };
    });
    const res = await app.inject({
      method: 'POST',
      url: '/upload',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      payload: form({}, 'longer than four bytes'),
    });
    expect(res.statusCode).toBe(413);
  });
});
