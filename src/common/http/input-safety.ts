import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import type { Logger } from 'pino';

import { BadRequestError } from '../errors/domain-errors.js';
import { sendError } from '../errors/error-responder.js';

/**
 * How deeply a JSON body may nest. Metadata documents and filters are a handful of levels deep; bodies
 * nested thousands deep exist only to exhaust the stack of whatever walks them after parsing.
 */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of a JSON text, measured without parsing it (one pass, no recursion), stopping as
 * soon as it passes `limit`. Brackets inside strings do not count. Works on the raw bytes: every byte
 * it looks at is ASCII, which UTF-8 never uses inside a multi-byte character.
 */
export function jsonDepthExceeds(text: Buffer | string, limit: number): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) {
        i++;
      } else if (byte === QUOTE) {
        inString = false;
      }
      continue;
    }
    if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
      if (depth > limit) {
        return true;
      }
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}

export class JsonTooDeepError extends BadRequestError {
  constructor(limit: number) {
    super(`The JSON body is nested deeper than the ${limit} levels the hub accepts; flatten it`, {
      errors: [{ path: '', message: `nested deeper than ${limit} levels` }],
      code: 'json_too_deep',
      extra: { max_depth: limit },
    });
  }
}

/**
 * Parses every JSON body the same way: Fastify's own parser (which refuses `__proto__` and
 * `constructor.prototype` keys) behind a depth check, so no route sees a body deeper than
 * {@link MAX_JSON_DEPTH}. The size cap is BODY_LIMIT_BYTES, enforced while the body streams in.
 *
 * An empty body with `Content-Type: application/json` counts as no body, as FastAPI does: NMDC's site
 * clients send that header on every call, including body-less ones such as `POST /jobs/{id}:claim`. A
 * route that needs a body still refuses the request, exactly as it refuses one sent without the header.
 */
export function installJsonParser(app: NestFastifyApplication, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parse = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit }, (request, body, done) => {
    const text = body.toString('utf8');
    if (text.trim().length === 0) {
      done(null, undefined);
      return;
    }
    if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) {
      done(new JsonTooDeepError(MAX_JSON_DEPTH), undefined);
      return;
    }
    void parse(request, text, done);
  });
}

/**
 * Fastify's router refuses some URLs before any route, hook or Nest filter sees them (a malformed
 * percent-encoding, a parameter over the length limit). Its own answer names its internals and repeats
 * the URL; this one answers in the shape the path's routes use and repeats nothing.
 */
export function frameworkErrorHandler(
  log: Logger,
): (error: Error, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    sendError(request, reply, error, log, { echoPath: false });
  };
}
