import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/** Headers a browser script may read from our answers (downloads need the range and length headers). */
const EXPOSED_HEADERS = [
  'Content-Length',
  'Content-Range',
  'Accept-Ranges',
  'ETag',
  'X-Request-Id',
  'Retry-After',
].join(', ');
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/** A CORS preflight names the method it asks about; a DRS `OPTIONS` call does not. */
export function isPreflight(request: Pick<FastifyRequest, 'method' | 'headers'>): boolean {
  return (
    request.method === 'OPTIONS' &&
    typeof request.headers.origin === 'string' &&
    typeof request.headers['access-control-request-method'] === 'string'
  );
}

export type CorsHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

/**
 * CORS for browser clients, as one `onRequest` hook. Only real preflights are answered here; every other
 * OPTIONS request reaches its route, because DRS defines `OPTIONS /objects/{id}` and `OPTIONS /objects`
 * as API calls that a preflight handler answering every OPTIONS with 204 would silently replace.
 *
 * Not `@fastify/cors`: it can tell a preflight from a DRS call per request only through its delegator
 * mode, which rebuilds and re-normalises the options on every request — 8 % of the CPU of `GET /version`
 * under load. The policy here is fixed at start, so its headers are computed once.
 */
export function corsHook(origins: '*' | readonly string[]): CorsHook {
  const anyOrigin = origins === '*' || origins.includes('*');
  const allowed = new Set(anyOrigin ? [] : origins);
  // `*` does not depend on the caller; a list answers each origin differently, so caches must vary by it.
  const vary = anyOrigin ? undefined : 'Origin';
  const preflightVary = anyOrigin
    ? 'Access-Control-Request-Headers'
    : 'Origin, Access-Control-Request-Headers';

  return (request, reply, done) => {
    const origin = request.headers.origin;
    if (anyOrigin) {
      void reply.header('access-control-allow-origin', '*');
    } else if (origin !== undefined && allowed.has(origin)) {
      void reply.header('access-control-allow-origin', origin);
    }
    void reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    if (!isPreflight(request)) {
      if (vary) {
        void reply.header('vary', vary);
      }
      done();
      return;
    }
    void reply
      .header('vary', preflightVary)
      .header('access-control-allow-methods', ALLOWED_METHODS)
      .header('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
    const requested = request.headers['access-control-request-headers'];
    if (typeof requested === 'string') {
      void reply.header('access-control-allow-headers', requested);
    }
    // Safari waits for a body on a 204 without an explicit zero length.
    void reply.code(204).header('content-length', '0').send();
  };
}
