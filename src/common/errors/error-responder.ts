import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

import { RangeNotSatisfiableError, TooManyRequestsError } from './domain-errors.js';
import { drsErrorDocument, isDrsPath, problemDocument, toProblem } from './problem.js';
import { redactUrl } from '../http/redact.js';

/**
 * Writes any error in the shape its route promises. Shared by the Nest exception filter and Fastify's
 * error handler, so errors raised before Nest sees a request (body parsing, size limits) look the same.
 */
export interface SendErrorOptions {
  /** False for errors about the URL itself: the answer then names the request, not its path. */
  readonly echoPath?: boolean;
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  log: Logger,
  options: SendErrorOptions = {},
): void {
  const path = request.url.split('?', 1)[0] ?? request.url;
  const echoPath = options.echoPath ?? true;
  let problem = toProblem(error);
  if (fastifyCodeOf(error) === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    problem = { ...problem, detail: bodyTooLargeDetail(request) };
  }
  if (problem.status === 404 && request.routeOptions.url === undefined) {
    problem = {
      ...problem,
      detail: `No route matches ${request.method} ${path}. The API is described at /redoc.`,
    };
  }
  if (problem.internal) {
    log.error(
      { err: error, requestId: request.id, url: redactUrl(request.url), method: request.method },
      'request failed',
    );
  } else {
    log.debug({ requestId: request.id, status: problem.status, code: problem.code }, problem.detail);
  }
  if (reply.sent) {
    return;
  }
  if (problem.status === 401) {
    const rejected = (request as { rejectedToken?: unknown }).rejectedToken;
    const invalid = problem.code === 'invalid_token' ? problem.detail : rejected;
    if (typeof rejected === 'string' && problem.code !== 'invalid_token') {
      problem = {
        ...problem,
        code: 'invalid_token',
        detail: `${problem.detail} (the token sent was not accepted: ${rejected})`,
      };
    }
    void reply.header('www-authenticate', bearerChallenge(typeof invalid === 'string' ? invalid : undefined));
  }
  if (error instanceof TooManyRequestsError) {
    void reply.header('retry-after', String(Math.max(1, error.retryAfterSeconds)));
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
    .send(problemDocument(problem, echoPath ? path : `urn:runtime-hub:request:${request.id}`, request.id));
}

/**
 * RFC 6750 §3: no error code when no token came, `invalid_token` with a description when one was
 * refused. The description may only hold printable ASCII without quotes or backslashes.
 */
function bearerChallenge(invalidTokenReason: string | undefined): string {
  if (invalidTokenReason === undefined) {
    return 'Bearer realm="runtime-hub"';
  }
  const description = invalidTokenReason.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, ' ').slice(0, 200);
  return `Bearer realm="runtime-hub", error="invalid_token", error_description="${description}"`;
}

/** Fastify's error code, also when Nest has wrapped the error in an HttpException. */
function fastifyCodeOf(error: unknown): unknown {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  return code ?? cause?.code;
}

function bodyTooLargeDetail(request: FastifyRequest): string {
  const type = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'text/csv' || type === 'text/tab-separated-values') {
    return 'The sheet is larger than this hub accepts (CHANGESHEET_MAX_BYTES); split it into smaller sheets.';
  }
  const limit = request.routeOptions.bodyLimit;
  return typeof limit === 'number'
    ? `The request body is larger than the ${limit} bytes this route accepts (BODY_LIMIT_BYTES).`
    : 'The request body is larger than this route accepts (BODY_LIMIT_BYTES).';
}
