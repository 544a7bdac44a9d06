import type { FastifyInstance } from 'fastify';

/**
 * Treats `Content-Type: application/json` with an empty body as a request without a body, as FastAPI
 * does: NMDC's site clients send that header on every call, including body-less ones such as
 * `POST /jobs/{id}:claim`. A route that needs a body still refuses the request, exactly as it refuses one
 * sent without the header. Non-empty bodies go through Fastify's own parser unchanged (prototype
 * poisoning stays an error).
 */
export function acceptEmptyJsonBodies(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim().length === 0) {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
