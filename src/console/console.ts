import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';

/** Where `npm run build` puts the console (scripts/build-console.ts); the same from `src/` and `dist/`. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../dist/console-web/', import.meta.url));

const NOT_BUILT_PAGE = `<!DOCTYPE html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Runtime Hub console is not built</title></head>
  <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
    <h1>The console is not built</h1>
    <p>This hub found no console files in <code>dist/console-web</code>. Build them with
    <code>npm run build</code> (or only the console with <code>npm run build:console</code>) and reload.</p>
    <p>The API works without it: see the <a href="/redoc">API reference</a>.</p>
  </body>
</html>
`;

/** The built page, or undefined when there is none (not built, or being rebuilt this instant). */
function readIndex(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Serves the web console at /console: its hashed, precompressed assets from the build directory, and
 * index.html for every other path below /console so that each page's URL can be opened directly. The
 * console talks only to the public API; nothing here is an endpoint of its own.
 */
export async function mountConsole(app: NestFastifyApplication, dir = CONSOLE_DIR): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const index = readIndex(join(dir, 'index.html'));
  if (index === undefined) {
    const notBuilt = (_request: unknown, reply: FastifyReply): FastifyReply =>
      reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    fastify.get('/console', notBuilt);
    fastify.get('/console/*', notBuilt);
    return;
  }
  await app.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: '/console/assets/',
    decorateReply: false,
    preCompressed: true,
    // File names carry a content hash: a new build is a new URL.
    immutable: true,
    maxAge: '365d',
  });
  const page = (_request: unknown, reply: FastifyReply): FastifyReply =>
    reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(index);
  fastify.get('/console', page);
  fastify.get('/console/*', page);
}
