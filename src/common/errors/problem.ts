import { HttpException } from '@nestjs/common';

import {
  dependencyUnavailable,
  DependencyUnavailableError,
  DomainError,
  type FieldProblem,
} from './domain-errors.js';

export const DRS_PREFIX = '/ga4gh/drs/v1';

/** What every error becomes before it is rendered in one of the two wire shapes. */
export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors?: readonly FieldProblem[];
  readonly extra?: Readonly<Record<string, unknown>>;
  /** True when the cause is ours, not the caller's: it must be logged with its stack. */
  readonly internal: boolean;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  requestId: string;
  errors?: readonly FieldProblem[];
  [extra: string]: unknown;
}

export interface DrsErrorDocument {
  msg: string;
  status_code: number;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  416: 'range_not_satisfiable',
  422: 'unprocessable',
  429: 'too_many_requests',
  503: 'service_unavailable',
};

/** Fastify's own request errors, reworded so the caller knows what to fix. */
const FASTIFY_ERRORS: Record<string, { code: string; detail: (err: Error) => string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: 'invalid_json',
    detail: (err) =>
      `The request body is not valid JSON: ${err.message.replace(/^Body is not valid JSON but content-type is set to 'application\/json'/, 'malformed JSON')}`,
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'invalid_json',
    detail: () =>
      'The request declares Content-Type application/json but its body is empty; send a JSON document or drop the header.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'payload_too_large',
    detail: () => 'The request body is larger than this route accepts.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    detail: (err) => `${err.message}. Send application/json unless the route documents another type.`,
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'bad_request',
    detail: () => 'The Content-Length header does not match the body that was sent.',
  },
  // The two router errors carry the URL in their message; the caller already has it, and logs and
  // answers should not repeat what an attacker chose.
  FST_ERR_BAD_URL: {
    code: 'bad_url',
    detail: () =>
      'The request path holds a malformed percent-encoding (a % not followed by two hex digits); encode reserved characters as % and two hex digits.',
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    code: 'uri_too_long',
    detail: () => 'A path segment is longer than the 1024 characters an id in a path may hold.',
  },
  FST_INVALID_MULTIPART_CONTENT_TYPE: {
    code: 'not_multipart',
    detail: () => 'The body is not multipart/form-data; send the form this route documents.',
  },
};

/**
 * How busboy (under @fastify/multipart) describes a form it cannot read: no boundary, a body that stops
 * half-way, a broken part header, a boundary over 254 characters (its search helper's "needle"). Its
 * errors carry no status, so they are recognised by their wording.
 */
const MALFORMED_MULTIPART =
  /^Multipart: |Unexpected end of (form|multipart data)|Part terminated early|Malformed part header|Malformed urlencoded form|Header terminator across chunks|^The needle cannot have a length bigger than/;

function malformedMultipart(error: Error): Problem {
  return {
    status: 400,
    code: 'malformed_multipart',
    title: titleFor(400),
    detail: `The multipart/form-data body cannot be read (${error.message}); send a complete form with the boundary named in Content-Type`,
    internal: false,
  };
}

function titleFor(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request');
}

function codeFor(status: number): string {
  return CODES[status] ?? (status >= 500 ? 'internal' : 'bad_request');
}

function messageOf(response: unknown, fallback: string): string {
  if (typeof response === 'string') {
    return response;
  }
  if (response && typeof response === 'object' && 'message' in response) {
    const message: unknown = response.message;
    if (typeof message === 'string') {
      return message;
    }
    if (Array.isArray(message)) {
      return message.map(String).join('; ');
    }
  }
  return fallback;
}

/**
 * The store behind a driver's connection failure, so the answer is a 503 naming it rather than a 500.
 * PostgreSQL failures arrive already wrapped (PostgresService); MongoDB and Redis are told by their
 * drivers' error names.
 */
function unavailableDependency(error: unknown): DependencyUnavailableError | undefined {
  if (error instanceof DependencyUnavailableError || !(error instanceof Error)) {
    return undefined;
  }
  const text = `${error.name} ${error.message}`;
  if (/^Mongo(ServerSelection|Network|TopologyClosed|NotConnected|PoolClosed)/.test(error.name)) {
    return dependencyUnavailable('MongoDB', error);
  }
  if (/MaxRetriesPerRequestError|Connection is closed|Stream isn't writeable/.test(text)) {
    return dependencyUnavailable('Redis', error);
  }
  return undefined;
}

export function toProblem(error: unknown): Problem {
  const unavailable = unavailableDependency(error);
  if (unavailable) {
    return toProblem(unavailable);
  }
  if (error instanceof DomainError) {
    return {
      status: error.status,
      code: error.code,
      title: error.title,
      detail: error.message,
      ...(error.errors ? { errors: error.errors } : {}),
      ...(error.extra ? { extra: error.extra } : {}),
      internal: error.status >= 500,
    };
  }
  if (error instanceof HttpException) {
    // Nest wraps Fastify's request errors (bad JSON, body too large); the original carries the precise code.
    const cause: unknown = error.cause;
    if (cause instanceof Error && typeof (cause as { code?: unknown }).code === 'string') {
      return toProblem(cause);
    }
    const status = error.getStatus();
    const response = error.getResponse();
    const extra =
      response && typeof response === 'object' && 'extra' in response
        ? ((response as { extra?: Record<string, unknown> }).extra ?? undefined)
        : undefined;
    return {
      status,
      code: codeFor(status),
      title: titleFor(status),
      detail: status >= 500 ? 'An unexpected error occurred.' : messageOf(response, error.message),
      ...(extra ? { extra } : {}),
      internal: status >= 500,
    };
  }
  if (error instanceof Error) {
    const fastify = error as Error & { statusCode?: number; code?: string };
    if (fastify.statusCode === undefined && MALFORMED_MULTIPART.test(error.message)) {
      return malformedMultipart(error);
    }
    const status = fastify.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const known = fastify.code ? FASTIFY_ERRORS[fastify.code] : undefined;
      return {
        status,
        code: known?.code ?? codeFor(status),
        title: titleFor(status),
        detail: known ? known.detail(error) : error.message,
        internal: false,
      };
    }
  }
  return {
    status: 500,
    code: 'internal',
    title: titleFor(500),
    detail: 'An unexpected error occurred. Quote the requestId when reporting it.',
    internal: true,
  };
}

export function isDrsPath(url: string): boolean {
  return url === DRS_PREFIX || url.startsWith(`${DRS_PREFIX}/`) || url.startsWith(`${DRS_PREFIX}?`);
}

export function problemDocument(problem: Problem, instance: string, requestId: string): ProblemDocument {
  return {
    ...(problem.extra ?? {}),
    type: `urn:runtime-hub:problem:${problem.code}`,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    instance,
    code: problem.code,
    requestId,
    ...(problem.errors && problem.errors.length > 0 ? { errors: problem.errors } : {}),
  };
}

export function drsErrorDocument(problem: Problem): DrsErrorDocument {
  return { msg: problem.detail, status_code: problem.status };
}
