import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

import { RangeNotSatisfiableError } from './domain-errors.js';
import { drsErrorDocument, isDrsPath, problemDocument, toProblem } from './problem.js';

/**
 * Writes any error in the shape its route promises. Shared by the Nest exception filter and Fastify's
 * error handler, so errors raised before Nest sees a request (body parsing, size limits) look the same.
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown, log: Logger): void {
  const path = request.url.split('?', 1)[0] ?? request.url;
  let problem = toProblem(error);
  if (problem.status === 404 && request.routeOptions.url === undefined) {
    problem = {
      ...problem,
      detail: `No route matches ${request.method} ${path}. The API is described at /redoc.`,
    };
  }
  if (problem.internal) {
    log.error(
      { err: error, requestId: request.id, url: request.url, method: request.method },
      'request failed',
    );
  } else {
    log.debug({ requestId: request.id, status: problem.status, code: problem.code }, problem.detail);
  }
  if (reply.sent) {
    return;
  }
  if (problem.status === 401) {
    void reply.header('www-authenticate', 'Bearer realm="runtime-hub"');
  }
  if (problem.status === 429 && !reply.getHeader('retry-after')) {
    reply.header('retry-after', '60');
  }
  if (error instanceof RangeNotSatisfiableError) {
    void reply.header('content-range', `bytes */${error.size}`);
  }
  if (isDrsPath(path)) {
    void reply.status(problem.status).type('application/json; charset=utf-8').send(drsErrorDocument(problem));
    return;
  }
  void reply
    .status(problem.status)
    .type('application/problem+json; charset=utf-8')
    .send(problemDocument(problem, path, request.id));
}
