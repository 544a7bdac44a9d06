import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

type CorsOptions = NonNullable<Parameters<NestFastifyApplication['enableCors']>[0]>;

/** Headers a browser script may read from our answers (downloads need the range and length headers). */
const EXPOSED_HEADERS = [
  'Content-Length',
  'Content-Range',
  'Accept-Ranges',
  'ETag',
  'X-Request-Id',
  'Retry-After',
];

/** A CORS preflight names the method it asks about; a DRS `OPTIONS` call does not. */
export function isPreflight(request: Pick<FastifyRequest, 'method' | 'headers'>): boolean {
  return (
    request.method === 'OPTIONS' &&
    typeof request.headers.origin === 'string' &&
    typeof request.headers['access-control-request-method'] === 'string'
  );
}

/**
 * CORS for browser clients. Only real preflights are answered by the CORS layer; every other OPTIONS
 * request reaches its route, because DRS defines `OPTIONS /objects/{id}` and `OPTIONS /objects` as API
 * calls that a preflight handler answering every OPTIONS with 204 would silently replace.
 */
export function corsOptions(origins: '*' | readonly string[]): CorsOptions {
  return {
    delegator: (request, callback) => {
      callback(null, {
        origin: origins === '*' ? '*' : [...origins],
        preflight: isPreflight(request),
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        exposedHeaders: EXPOSED_HEADERS,
        maxAge: 600,
      });
    },
  };
}
