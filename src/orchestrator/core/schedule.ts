import { CronExpressionParser } from 'cron-parser';

import { checkCron } from '../../config/cron.js';
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
