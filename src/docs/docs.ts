import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

const require = createRequire(import.meta.url);
const REDOC_BUNDLE = join(dirname(require.resolve('redoc/package.json')), 'bundles', 'redoc.standalone.js');

/**
 * Redoc's footer shows a logo it loads from cdn.redoc.ly (hidden when that fails, as it does offline).
 * The bundle is served with that address pointing at a small logo of the hub's own instead, so the docs
 * make no outside request.
 */
const REDOC_CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const LOCAL_LOGO_PATH = '/redoc/logo.svg';
const LOCAL_LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16" width="16" height="16">
  <rect x="1" y="1" width="14" height="14" rx="3" fill="#32329f"/>
  <path d="M5 4h3.5a2.5 2.5 0 0 1 0 5H7l3 3H8l-3-3V4zm2 1.5V7.5h1.5a1 1 0 0 0 0-2z" fill="#fff"/>
</svg>
`;

function redocBundle(): string {
  const bundle = readFileSync(REDOC_BUNDLE, 'utf8');
  // A bundle without the address (another Redoc version) is served as it is.
  return bundle.split(REDOC_CDN_LOGO).join(LOCAL_LOGO_PATH);
}

const REDOC_PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Runtime Hub API</title>
    <style>body { margin: 0; padding: 0; }</style>
  </head>
  <body>
    <redoc spec-url="/openapi.json" expand-responses="200,201" path-in-middle-panel></redoc>
    <script src="/redoc/redoc.standalone.js"></script>
  </body>
</html>
`;

/**
 * Serves the API description three ways, all from this process so they work offline:
 * `/openapi.json`, Redoc at `/redoc` (its script comes from the redoc npm package) and Swagger UI at `/docs`.
 */
export function mountDocs(app: NestFastifyApplication, document: OpenAPIObject): void {
  const fastify = app.getHttpAdapter().getInstance();
  const body = JSON.stringify(document);

  fastify.get('/openapi.json', (_request, reply) => {
    void reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').send(body);
  });
  fastify.get('/redoc', (_request, reply) => {
    void reply.type('text/html; charset=utf-8').send(REDOC_PAGE);
  });
  const bundle = redocBundle();
  fastify.get('/redoc/redoc.standalone.js', (_request, reply) => {
    void reply
      .header('cache-control', 'public, max-age=86400')
      .type('application/javascript; charset=utf-8')
      .send(bundle);
  });
  fastify.get(LOCAL_LOGO_PATH, (_request, reply) => {
    void reply
      .header('cache-control', 'public, max-age=86400')
      .type('image/svg+xml; charset=utf-8')
      .send(LOCAL_LOGO);
  });

  SwaggerModule.setup('docs', app, document, {
    raw: false,
    customSiteTitle: 'Runtime Hub API — Swagger UI',
    swaggerOptions: { persistAuthorization: true },
  });
}
