import { CronExpressionParser } from 'cron-parser';

import { checkName, DefinitionError } from './errors.js';
import type { JobDefinition } from './job.js';
import type { RunConfig } from './run-config.js';
import type { InstigatorStatus } from './sensor.js';

export interface ScheduleContext {
  readonly scheduledTime: Date;
}

export interface ScheduleOptions {
  readonly name: string;
  readonly description?: string;
  readonly job: JobDefinition;
  /** A five-field cron expression (minute precision, as Dagster), or @hourly/@daily/@weekly/@monthly. */
  readonly cron: string;
  /** IANA time zone the cron is read in; defaults to UTC. Daylight saving is handled. */
  readonly timezone?: string;
  readonly defaultStatus?: InstigatorStatus;
  readonly runConfig?: RunConfig | ((context: ScheduleContext) => RunConfig | Promise<RunConfig>);
  readonly tags?: Readonly<Record<string, string>>;
  /** Return false to skip a scheduled time (the tick is recorded as SKIPPED). */
  readonly shouldExecute?: (context: ScheduleContext) => boolean | Promise<boolean>;
}

export interface ScheduleDefinition {
  readonly kind: 'schedule';
  readonly name: string;
  readonly description?: string;
  readonly job: JobDefinition;
  readonly cron: string;
  readonly timezone: string;
  readonly defaultStatus: InstigatorStatus;
  readonly tags: Readonly<Record<string, string>>;
  runConfigFor(context: ScheduleContext): Promise<RunConfig>;
  shouldExecute(context: ScheduleContext): Promise<boolean>;
}

const PREDEFINED = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/**
 * Problems with a cron and time zone. Definitions use five fields (minute precision, as Dagster);
 * `allowSeconds` also accepts a sixth, leading seconds field, for operator overrides such as a test
 * environment that needs a schedule to fire within seconds.
 */
export function checkCron(
  cron: string,
  timezone: string,
  options: { readonly allowSeconds?: boolean } = {},
): string[] {
  const problems: string[] = [];
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    problems.push(`timezone "${timezone}" is not an IANA time zone`);
    return problems;
  }
  const fields = cron.trim().split(/\s+/);
  const allowed = options.allowSeconds ? [5, 6] : [5];
  if (!PREDEFINED.has(cron.trim()) && !allowed.includes(fields.length)) {
    problems.push(
      options.allowSeconds
        ? `cron "${cron}" must have five fields (minute hour day-of-month month day-of-week), or six with seconds first`
        : `cron "${cron}" must have five fields (minute hour day-of-month month day-of-week)`,
    );
    return problems;
  }
  try {
    CronExpressionParser.parse(cron, { tz: timezone });
  } catch (error) {
    problems.push(`cron "${cron}" does not parse: ${(error as Error).message}`);
  }
  return problems;
}

export function schedule(options: ScheduleOptions): ScheduleDefinition {
  const timezone = options.timezone ?? 'UTC';
  const problems = [...checkName('schedule', options.name), ...checkCron(options.cron, timezone)];
  if (!options.job || options.job.kind !== 'job') {
    problems.push('a schedule needs a job');
  }
  const status = options.defaultStatus ?? 'STOPPED';
  if (status !== 'RUNNING' && status !== 'STOPPED') {
    problems.push('defaultStatus must be RUNNING or STOPPED');
  }
  if (problems.length > 0) {
    throw new DefinitionError(`schedule "${String(options.name)}"`, problems);
  }
  const runConfig = options.runConfig;
  return Object.freeze({
    kind: 'schedule' as const,
    name: options.name,
    ...(options.description ? { description: options.description } : {}),
    job: options.job,
    cron: options.cron.trim(),
    timezone,
    defaultStatus: status,
    tags: { ...(options.tags ?? {}) },
    runConfigFor: async (context: ScheduleContext) =>
      typeof runConfig === 'function' ? await runConfig(context) : (runConfig ?? {}),
    shouldExecute: async (context: ScheduleContext) =>
      options.shouldExecute ? await options.shouldExecute(context) : true,
  });
}

export interface DueTimes {
  /** Scheduled times to launch, oldest first. */
  readonly times: readonly Date[];
  /** Due times left out because of the catch-up cap (counted up to 1,000). */
  readonly skipped: number;
}

/**
 * The scheduled times in (after, until], keeping only the latest `maxRuns` (Dagster's max_catchup_runs:
 * after downtime at most that many missed times are launched).
 */
export function dueTimes(
  definition: Pick<ScheduleDefinition, 'cron' | 'timezone'>,
  after: Date,
  until: Date,
  maxRuns: number,
): DueTimes {
  const expression = CronExpressionParser.parse(definition.cron, {
    tz: definition.timezone,
    currentDate: new Date(until.getTime() + 1),
  });
  const times: Date[] = [];
  let skipped = 0;
  while (expression.hasPrev() && skipped < 1000) {
    const time = expression.prev().toDate();
    if (time.getTime() <= after.getTime()) {
      break;
    }
    if (times.length < maxRuns) {
      times.push(time);
    } else {
      skipped++;
    }
  }
  return { times: times.reverse(), skipped };
}

/** The first scheduled time strictly after `after`. */
export function nextScheduledTime(
  definition: Pick<ScheduleDefinition, 'cron' | 'timezone'>,
  after: Date,
): Date {
  return CronExpressionParser.parse(definition.cron, { tz: definition.timezone, currentDate: after })
    .next()
    .toDate();
}

/** The latest scheduled time at or before `at`, if the cron has one. */
export function previousScheduledTime(
  definition: Pick<ScheduleDefinition, 'cron' | 'timezone'>,
  at: Date,
): Date | undefined {
  const expression = CronExpressionParser.parse(definition.cron, {
    tz: definition.timezone,
    currentDate: new Date(at.getTime() + 1),
  });
  return expression.hasPrev() ? expression.prev().toDate() : undefined;
}
