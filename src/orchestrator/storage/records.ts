import type { EventType, LogLevel, RunStatus } from '../core/index.js';

export type InstigatorType = 'sensor' | 'schedule';
export type RunInstigatorType = 'manual' | 'sensor' | 'schedule' | 'reexecution';
export type TickStatus = 'STARTED' | 'SKIPPED' | 'SUCCESS' | 'FAILURE';

export interface RunRecord {
  readonly runId: string;
  readonly jobName: string;
  readonly status: RunStatus;
  readonly runConfig: Record<string, unknown>;
  readonly tags: Record<string, string>;
  readonly parentRunId?: string;
  readonly rootRunId?: string;
  readonly stepKeysToExecute?: readonly string[];
  readonly instigatorType: RunInstigatorType;
  readonly instigatorName?: string;
  readonly runKey?: string;
  readonly scheduledTime?: Date;
  readonly priority: number;
  readonly resumeAttempts: number;
  readonly workerId?: string;
  readonly heartbeatAt?: Date;
  readonly failureReason?: string;
  readonly createdBy?: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly startTime?: Date;
  readonly endTime?: Date;
}

/** A run to create in QUEUED, with its RUN_ENQUEUED event (or `start`ed at once: see RunRepository.insertRuns). */
export interface NewRun {
  readonly runId: string;
  readonly jobName: string;
  readonly runConfig: unknown;
  readonly tags: Readonly<Record<string, string>>;
  readonly instigatorType: RunInstigatorType;
  readonly instigatorName?: string;
  readonly runKey?: string;
  readonly scheduledTime?: Date;
  readonly parentRunId?: string;
  readonly rootRunId?: string;
  readonly stepKeysToExecute?: readonly string[];
  readonly priority?: number;
  readonly createdBy?: string;
  /** Hand it to a worker at once, in STARTING: no concurrency limit applies to it. */
  readonly start?: boolean;
  /**
   * Create it STARTED and claimed by this worker (id), which executes it at once in the launching
   * process: no concurrency limit applies to it and that worker had a free slot.
   */
  readonly startedBy?: string;
}

export interface EventRecord {
  /** The event's cursor: a strictly increasing id across the whole event log. */
  readonly id: number;
  readonly runId: string;
  readonly type: EventType;
  readonly stepKey?: string;
  readonly level: LogLevel;
  readonly message: string;
  readonly data?: Record<string, unknown>;
  readonly assetKey?: string;
  readonly timestamp: Date;
}

export interface InstigatorRecord {
  readonly name: string;
  readonly type: InstigatorType;
  readonly status: 'RUNNING' | 'STOPPED';
  readonly cursor?: string;
  readonly lastRunKey?: string;
  readonly lastTickStart?: Date;
  readonly lastTickEnd?: Date;
  readonly lastScheduledTime?: Date;
  readonly minIntervalMs?: number;
  readonly updatedAt: Date;
}

export interface TickRecord {
  readonly id: number;
  readonly instigatorName: string;
  readonly instigatorType: InstigatorType;
  readonly status: TickStatus;
  readonly startedAt: Date;
  readonly endedAt?: Date;
  readonly cursorBefore?: string;
  readonly cursorAfter?: string;
  readonly runIds: readonly string[];
  readonly runKeys: readonly string[];
  readonly scheduledTimes: readonly Date[];
  readonly skipReason?: string;
  readonly error?: Record<string, unknown>;
  readonly logs?: readonly unknown[];
}

/** Drops null columns so API documents omit absent fields instead of serialising null. */
export function defined<T extends object>(value: T): T {
  // A loop rather than entries/filter/fromEntries: every run read and written passes through here.
  const kept: Record<string, unknown> = {};
  for (const key in value) {
    const v: unknown = value[key];
    if (v !== null && v !== undefined) {
      kept[key] = v;
    }
  }
  return kept as T;
}

export type Row = Record<string, unknown>;

/**
 * The columns of orch_runs that {@link toRun} reads, qualified by `table`, for statements that must list
 * them; with `when`, each is null in rows where that condition is false (a statement whose callers need
 * the record for only some of its rows).
 */
export function runColumns(table: string, when?: string): string {
  return [
    'run_id',
    'job_name',
    'status',
    'run_config',
    'tags',
    'parent_run_id',
    'root_run_id',
    'step_keys_to_execute',
    'instigator_type',
    'instigator_name',
    'run_key',
    'scheduled_time',
    'priority',
    'resume_attempts',
    'worker_id',
    'heartbeat_at',
    'failure_reason',
    'created_by',
    'created_at',
    'updated_at',
    'start_time',
    'end_time',
  ]
    .map((column) =>
      when === undefined
        ? `${table}.${column}`
        : `CASE WHEN ${when} THEN ${table}.${column} END AS ${column}`,
    )
    .join(', ');
}

export function toRun(row: Row): RunRecord {
  return defined({
    runId: row.run_id as string,
    jobName: row.job_name as string,
    status: row.status as RunStatus,
    runConfig: row.run_config as Record<string, unknown>,
    tags: row.tags as Record<string, string>,
    parentRunId: row.parent_run_id as string | undefined,
    rootRunId: row.root_run_id as string | undefined,
    stepKeysToExecute: row.step_keys_to_execute as string[] | undefined,
    instigatorType: row.instigator_type as RunInstigatorType,
    instigatorName: row.instigator_name as string | undefined,
    runKey: row.run_key as string | undefined,
    scheduledTime: row.scheduled_time as Date | undefined,
    priority: row.priority as number,
    resumeAttempts: row.resume_attempts as number,
    workerId: row.worker_id as string | undefined,
    heartbeatAt: row.heartbeat_at as Date | undefined,
    failureReason: row.failure_reason as string | undefined,
    createdBy: row.created_by as string | undefined,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
    startTime: row.start_time as Date | undefined,
    endTime: row.end_time as Date | undefined,
  });
}

export function toEvent(row: Row): EventRecord {
  return defined({
    id: Number(row.id),
    runId: row.run_id as string,
    type: row.event_type as EventType,
    stepKey: row.step_key as string | undefined,
    level: row.level as LogLevel,
    message: row.message as string,
    data: row.data as Record<string, unknown> | undefined,
    assetKey: row.asset_key as string | undefined,
    timestamp: row.ts as Date,
  });
}

export function toInstigator(row: Row): InstigatorRecord {
  return defined({
    name: row.name as string,
    type: row.type as InstigatorType,
    status: row.status as 'RUNNING' | 'STOPPED',
    cursor: row.cursor as string | undefined,
    lastRunKey: row.last_run_key as string | undefined,
    lastTickStart: row.last_tick_start as Date | undefined,
    lastTickEnd: row.last_tick_end as Date | undefined,
    lastScheduledTime: row.last_scheduled_time as Date | undefined,
    minIntervalMs: row.min_interval_ms as number | undefined,
    updatedAt: row.updated_at as Date,
  });
}

export function toTick(row: Row): TickRecord {
  return defined({
    id: Number(row.id),
    instigatorName: row.instigator_name as string,
    instigatorType: row.instigator_type as InstigatorType,
    status: row.status as TickStatus,
    startedAt: row.started_at as Date,
    endedAt: row.ended_at as Date | undefined,
    cursorBefore: row.cursor_before as string | undefined,
    cursorAfter: row.cursor_after as string | undefined,
    runIds: row.run_ids as string[],
    runKeys: row.run_keys as string[],
    scheduledTimes: row.scheduled_times as Date[],
    skipReason: row.skip_reason as string | undefined,
    error: row.error as Record<string, unknown> | undefined,
    logs: row.logs as unknown[] | undefined,
  });
}
