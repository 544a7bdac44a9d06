import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RawServerDefault } from 'fastify';

/**
 * Treats `Content-Type: application/json` with an empty body as a request without a body, as FastAPI
 * does: NMDC's site clients send that header on every call, including body-less ones such as
 * `POST /jobs/{id}:claim`. A route that needs a body still refuses the request, exactly as it refuses one
 * sent without the header. Other bodies go through Fastify's own JSON parser unchanged (prototype
 * poisoning stays an error).
 */
export function acceptEmptyJsonBodies(app: NestFastifyApplication, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit }, (request, body, done) => {
    if (body.toString('utf8').trim().length === 0) {
      done(null, undefined);
      return;
    }
    void parseJson(request, body.toString('utf8'), done);
  });
}
