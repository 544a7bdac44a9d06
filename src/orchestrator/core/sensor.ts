import { checkName, DefinitionError } from './errors.js';
import type { JobDefinition } from './job.js';
import type { RunConfig } from './run-config.js';

export type InstigatorStatus = 'RUNNING' | 'STOPPED';

export interface RunRequestInit {
  /** At most one run per key and sensor, across all its evaluations. Omit for a new run every time. */
  readonly runKey?: string;
  readonly runConfig?: RunConfig;
  readonly tags?: Readonly<Record<string, string>>;
  /** Required when the sensor targets several jobs. */
  readonly jobName?: string;
}

export class RunRequest {
  readonly runKey?: string;
  readonly runConfig?: RunConfig;
  readonly tags: Readonly<Record<string, string>>;
  readonly jobName?: string;
  constructor(init: RunRequestInit = {}) {
    Object.assign(this, {
      ...(init.runKey !== undefined ? { runKey: init.runKey } : {}),
      ...(init.runConfig !== undefined ? { runConfig: init.runConfig } : {}),
      ...(init.jobName !== undefined ? { jobName: init.jobName } : {}),
    });
    this.tags = { ...(init.tags ?? {}) };
  }
}

export class SkipReason {
  constructor(readonly message: string) {}
}

/** Everything a sensor can say at once (Dagster's SensorResult). */
export class SensorResult {
  constructor(
    readonly init: {
      readonly runRequests?: readonly RunRequest[];
      readonly skipReason?: string;
      readonly cursor?: string | null;
    },
  ) {}
}

export const runRequest = (init: RunRequestInit = {}): RunRequest => new RunRequest(init);
export const skipReason = (message: string): SkipReason => new SkipReason(message);

export interface SensorLogLine {
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
}

export interface SensorContext {
  readonly sensorName: string;
  /** The cursor committed by the last successful tick (null before the first). */
  readonly cursor: string | null;
  /** Sets the cursor committed with this tick; a failed tick commits nothing. */
  updateCursor(cursor: string | null): void;
  readonly lastRunKey: string | null;
  readonly lastTickCompletionTime: Date | null;
  readonly resources: Readonly<Record<string, unknown>>;
  /** Aborted when the evaluation times out. */
  readonly signal: AbortSignal;
  readonly log: {
    info(message: string): void;
    warning(message: string): void;
    error(message: string): void;
  };
}

type Yielded = RunRequest | SkipReason | SensorResult | null | undefined | void;
export type SensorFunction = (
  context: SensorContext,
) =>
  | Yielded
  | readonly (RunRequest | SkipReason)[]
  | Iterable<RunRequest | SkipReason>
  | AsyncIterable<RunRequest | SkipReason>
  | Promise<Yielded | readonly (RunRequest | SkipReason)[]>;

export interface SensorOptions {
  readonly name: string;
  readonly description?: string;
  /** The job its run requests target (or `jobs` for several). */
  readonly job?: JobDefinition;
  readonly jobs?: readonly JobDefinition[];
  /** Dagster's default: 30 seconds. Fractions are allowed (tests, benchmarks). */
  readonly minimumIntervalSeconds?: number;
  readonly defaultStatus?: InstigatorStatus;
  readonly requiredResources?: readonly string[];
  /**
   * Topics of work this sensor finds (e.g. `object-typed`). When the hub reports such work, the sensor
   * is evaluated at once instead of at its next interval; the interval tick remains the safety net.
   */
  readonly wakeOn?: readonly string[];
}

export interface SensorDefinition {
  readonly kind: 'sensor';
  readonly name: string;
  readonly description?: string;
  readonly jobs: readonly JobDefinition[];
  readonly minimumIntervalSeconds: number;
  readonly defaultStatus: InstigatorStatus;
  readonly requiredResources: readonly string[];
  readonly wakeOn: readonly string[];
  readonly fn: SensorFunction;
}

export function sensor(options: SensorOptions, fn: SensorFunction): SensorDefinition {
  const problems = [...checkName('sensor', options.name)];
  const jobs = [...(options.jobs ?? []), ...(options.job ? [options.job] : [])];
  if (jobs.length === 0) {
    problems.push('a sensor needs `job` or `jobs`');
  }
  const interval = options.minimumIntervalSeconds ?? 30;
  if (!Number.isFinite(interval) || interval < 0.05) {
    problems.push('minimumIntervalSeconds must be at least 0.05');
  }
  const status = options.defaultStatus ?? 'STOPPED';
  if (status !== 'RUNNING' && status !== 'STOPPED') {
    problems.push('defaultStatus must be RUNNING or STOPPED');
  }
  if (typeof fn !== 'function') {
    problems.push('the sensor function is missing');
  }
  if (problems.length > 0) {
    throw new DefinitionError(`sensor "${String(options.name)}"`, problems);
  }
  return Object.freeze({
    kind: 'sensor' as const,
    name: options.name,
    ...(options.description ? { description: options.description } : {}),
    jobs,
    minimumIntervalSeconds: interval,
    defaultStatus: status,
    requiredResources: [...(options.requiredResources ?? [])],
    wakeOn: [...new Set(options.wakeOn ?? [])],
    fn,
  });
}

export interface ResolvedRunRequest {
  readonly jobName: string;
  readonly runKey?: string;
  readonly runConfig: RunConfig;
  readonly tags: Readonly<Record<string, string>>;
}

export interface SensorEvaluation {
  readonly runRequests: readonly ResolvedRunRequest[];
  readonly skipReason?: string;
  readonly cursor: string | null;
  readonly logs: readonly SensorLogLine[];
}

export interface SensorEvaluationInput {
  readonly cursor: string | null;
  readonly lastRunKey: string | null;
  readonly lastTickCompletionTime: Date | null;
  readonly resources?: Readonly<Record<string, unknown>>;
  readonly signal?: AbortSignal;
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.iterator in value;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Runs the sensor function and normalises whatever it returned or yielded. Throws when it throws or
 * asks for a job it does not target; the daemon records that as a FAILURE tick.
 */
export async function evaluateSensor(
  definition: SensorDefinition,
  input: SensorEvaluationInput,
): Promise<SensorEvaluation> {
  let cursor = input.cursor;
  const logs: SensorLogLine[] = [];
  const context: SensorContext = {
    sensorName: definition.name,
    cursor: input.cursor,
    updateCursor: (next) => {
      cursor = next;
    },
    lastRunKey: input.lastRunKey,
    lastTickCompletionTime: input.lastTickCompletionTime,
    resources: input.resources ?? {},
    signal: input.signal ?? new AbortController().signal,
    log: {
      info: (message) => logs.push({ level: 'info', message }),
      warning: (message) => logs.push({ level: 'warning', message }),
      error: (message) => logs.push({ level: 'error', message }),
    },
  };
  const returned: unknown = await definition.fn(context);
  const items: unknown[] = [];
  if (isAsyncIterable(returned)) {
    for await (const item of returned) {
      items.push(item);
    }
  } else if (isIterable(returned)) {
    items.push(...returned);
  } else if (returned !== undefined && returned !== null) {
    items.push(returned);
  }
  const requests: RunRequest[] = [];
  let skip: string | undefined;
  for (const item of items) {
    if (item instanceof RunRequest) {
      requests.push(item);
    } else if (item instanceof SkipReason) {
      skip = item.message;
    } else if (item instanceof SensorResult) {
      requests.push(...(item.init.runRequests ?? []));
      skip = item.init.skipReason ?? skip;
      if (item.init.cursor !== undefined) {
        cursor = item.init.cursor;
      }
    } else {
      throw new Error(
        `sensor "${definition.name}" produced ${JSON.stringify(item)}; yield RunRequest, SkipReason or SensorResult`,
      );
    }
  }
  const resolved = requests.map((request): ResolvedRunRequest => {
    const jobName = request.jobName ?? (definition.jobs.length === 1 ? definition.jobs[0]?.name : undefined);
    if (!jobName || !definition.jobs.some((j) => j.name === jobName)) {
      throw new Error(
        `sensor "${definition.name}" requested job ${JSON.stringify(request.jobName)}; it targets ${definition.jobs.map((j) => j.name).join(', ')}${definition.jobs.length > 1 ? ' (set jobName)' : ''}`,
      );
    }
    if (request.runKey !== undefined && (typeof request.runKey !== 'string' || request.runKey.length > 255)) {
      throw new Error(
        `sensor "${definition.name}" gave a run key that is not a string of at most 255 characters`,
      );
    }
    return {
      jobName,
      ...(request.runKey !== undefined ? { runKey: request.runKey } : {}),
      runConfig: request.runConfig ?? {},
      tags: request.tags,
    };
  });
  return {
    runRequests: resolved,
    ...(resolved.length === 0 ? { skipReason: skip ?? 'the sensor requested no runs' } : {}),
    cursor,
    logs,
  };
}
