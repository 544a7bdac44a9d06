/**
 * Errors services throw. They carry no HTTP types; the global filter maps `status` and `code`
 * onto problem+json (or the DRS error shape) in one place.
 */
export interface FieldProblem {
  /** Where the problem is: a dotted field path for request bodies, a JSON pointer for documents. */
  readonly path: string;
  readonly message: string;
  readonly row?: number;
  readonly id?: string;
}

/** What an error carries besides its message; every domain error takes it second. */
export interface DomainErrorOptions {
  /** The problems one by one, answered as `errors`. */
  readonly errors?: readonly FieldProblem[];
  /** Members added to the answer, such as the id of the object a conflict is with. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The options of the errors whose `code` the thrower names (their class gives only a default). */
export interface CodedErrorOptions extends DomainErrorOptions {
  readonly code?: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  abstract readonly title: string;
  readonly errors?: readonly FieldProblem[];
  readonly extra?: Readonly<Record<string, unknown>>;

  constructor(message: string, options: DomainErrorOptions = {}) {
    super(message);
    this.name = new.target.name;
    this.errors = options.errors;
    this.extra = options.extra;
  }
}

export class BadRequestError extends DomainError {
  readonly status = 400;
  readonly code: string;
  readonly title = 'Bad Request';
  constructor(message: string, options: CodedErrorOptions = {}) {
    super(message, options);
    this.code = options.code ?? 'bad_request';
  }
}

export class ValidationFailedError extends DomainError {
  readonly status = 400;
  readonly code = 'validation_failed';
  readonly title = 'Validation Failed';
}

export class UnprocessableError extends DomainError {
  readonly status = 422;
  readonly code: string;
  readonly title = 'Unprocessable Content';
  constructor(message: string, options: CodedErrorOptions = {}) {
    super(message, options);
    this.code = options.code ?? 'unprocessable';
  }
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly code: string = 'unauthorized';
  readonly title = 'Unauthorized';
}

/**
 * A bearer token was sent but cannot be accepted (malformed, wrongly signed, expired, revoked): RFC 6750's
 * `invalid_token`, announced in the WWW-Authenticate header so clients know to get a new one.
 */
export class InvalidTokenError extends UnauthorizedError {
  override readonly code: string = 'invalid_token';
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly code = 'forbidden';
  readonly title = 'Forbidden';
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly code = 'not_found';
  readonly title = 'Not Found';
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly code: string;
  readonly title = 'Conflict';
  constructor(message: string, options: CodedErrorOptions = {}) {
    super(message, options);
    this.code = options.code ?? 'conflict';
  }
}

export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  readonly code = 'payload_too_large';
  readonly title = 'Payload Too Large';
}

export class RangeNotSatisfiableError extends DomainError {
  readonly status = 416;
  readonly code = 'range_not_satisfiable';
  readonly title = 'Range Not Satisfiable';
  /** The full size, for the `Content-Range: bytes *\/size` header the answer must carry. */
  readonly size: number;
  constructor(message: string, options: DomainErrorOptions & { readonly size: number }) {
    super(message, options);
    this.size = options.size;
  }
}

export class TooManyRequestsError extends DomainError {
  readonly status = 429;
  readonly code = 'too_many_requests';
  readonly title = 'Too Many Requests';
  /** Sent as Retry-After. */
  readonly retryAfterSeconds: number;
  constructor(message: string, options: DomainErrorOptions & { readonly retryAfterSeconds: number }) {
    super(message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class ServiceUnavailableError extends DomainError {
  readonly status = 503;
  readonly code = 'service_unavailable';
  readonly title = 'Service Unavailable';
}

/** A store the request needs cannot be reached right now (503 naming it; the client retries). */
export class DependencyUnavailableError extends DomainError {
  readonly status = 503;
  readonly code = 'dependency_unavailable';
  readonly title = 'Service Unavailable';
  readonly dependency: Dependency;
  constructor(message: string, options: { readonly dependency: Dependency; readonly cause?: unknown }) {
    super(message, { extra: { dependency: options.dependency } });
    this.dependency = options.dependency;
    this.cause = options.cause;
  }
}

export type Dependency = 'PostgreSQL' | 'MongoDB' | 'Redis';

/** The 503 for a store that cannot be reached, in the words every such answer uses. */
export function dependencyUnavailable(dependency: Dependency, cause?: unknown): DependencyUnavailableError {
  return new DependencyUnavailableError(`${dependency} is unavailable right now; retry shortly.`, {
    dependency,
    cause,
  });
}
