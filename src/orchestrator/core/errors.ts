/** A definition (op, graph, job, sensor, schedule, repository) that cannot be built; names every problem. */
export class DefinitionError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: readonly string[],
  ) {
    super(`${subject} is invalid: ${problems.join('; ')}`);
    this.name = 'DefinitionError';
  }
}

export interface ConfigProblem {
  /** Dotted path into the run config, e.g. `ops.filter_even.config.threshold`. */
  readonly path: string;
  readonly message: string;
}

/** Run config that does not match the job's schemas; `problems` names every bad key. */
export class RunConfigError extends Error {
  constructor(
    readonly jobName: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `Run config for job "${jobName}" is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    );
    this.name = 'RunConfigError';
  }
}

/** Thrown by an op to ask for another attempt regardless of its retry policy (Dagster's RetryRequested). */
export class RetryRequested extends Error {
  constructor(
    readonly maxRetries = 1,
    readonly delayMs = 0,
    message = 'the op requested a retry',
  ) {
    super(message);
    this.name = 'RetryRequested';
  }
}

/** Why a step stopped because its run was canceled. */
export class StepInterrupted extends Error {
  constructor(message = 'the run was canceled') {
    super(message);
    this.name = 'StepInterrupted';
  }
}

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  }
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) };
}

const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;

/** Names appear in URLs, job ids and SQL keys, so they follow Dagster's valid-name rule. */
export function checkName(kind: string, name: unknown): string[] {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    return [
      `${kind} name ${JSON.stringify(name)} must start with a letter and contain only letters, digits and _ (max 128)`,
    ];
  }
  return [];
}
