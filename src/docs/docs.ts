import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

const require = createRequire(import.meta.url);
const REDOC_BUNDLE = join(dirname(require.resolve('redoc/package.json')), 'bundles', 'redoc.standalone.js');

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
  fastify.get('/redoc/redoc.standalone.js', (_request, reply) => {
    void reply
      .header('cache-control', 'public, max-age=86400')
      .type('application/javascript; charset=utf-8')
      .send(createReadStream(REDOC_BUNDLE));
  });

  SwaggerModule.setup('docs', app, document, {
    raw: false,
    customSiteTitle: 'Runtime Hub API — Swagger UI',
    swaggerOptions: { persistAuthorization: true },
  });
}
