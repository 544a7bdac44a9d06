import { Injectable } from '@nestjs/common';

import { PostgresService } from '../../infra/postgres/postgres.service.js';
import type { OrchestratorEvent, RunStatus } from '../core/index.js';
import { MicroBatcher } from './micro-batcher.js';
import { MAX_MESSAGE_CHARS, pgSafeText } from './pg-safe.js';
import { toRun, type NewRun, type Row, type RunRecord } from './records.js';
import {
  eventsParam,
  insertEvents,
  lockKey,
  outputsParam,
  storeOutputs,
  type Queryable,
  type StepOutputRow,
} from './sql.js';

export type { StepOutputRow };

export interface RunFilter {
  readonly statuses?: readonly RunStatus[];
  readonly jobName?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly createdAfter?: Date;
  readonly createdBefore?: Date;
  /** Keyset pagination: only runs older (smaller internal id) than this. */
  readonly beforeId?: number;
  readonly limit: number;
}

export interface TransitionOptions {
  readonly from: readonly RunStatus[];
  readonly to: RunStatus;
  /** The run-level event(s) explaining the change, written in the same statement. */
  readonly events: readonly OrchestratorEvent[];
  /** Queue a `cancel-run` outbox message in the same statement (its id is returned as `outboxId`). */
  readonly broadcastCancel?: boolean;
  /** Step outputs not stored yet, written only if the compare-and-set succeeds. */
  readonly outputs?: readonly StepOutputRow[];
  /** Only when the run's resume_attempts equals this (the worker's fencing token). */
  readonly fence?: number;
  readonly failureReason?: string;
  /** Claims the run for this worker and stamps its heartbeat. */
  readonly workerId?: string;
}

/** A QUEUED run as the coordinator sees it. */
export interface QueuedRun {
  readonly runId: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface CoordinatorSnapshot {
  readonly inProgress: number;
  /** In-progress runs' tags for the limited keys, one entry per run. */
  readonly inProgressTags: readonly Readonly<Record<string, string>>[];
  readonly queued: readonly QueuedRun[];
}

const TERMINAL = `('SUCCESS', 'FAILURE', 'CANCELED')`;

/** Runs, their tags and run-level events. Every status change is a compare-and-set with its event. */
@Injectable()
export class RunRepository {
  private readonly launches = new MicroBatcher<NewRun, RunRecord | undefined>(async (runs) => {
    const created = new Map((await this.insertRuns(runs)).map((run) => [run.runId, run]));
    return runs.map((run) => created.get(run.runId));
  });

  constructor(private readonly postgres: PostgresService) {}

  /**
   * Creates one run like {@link insertRuns}, batched with the launches other requests make at the same
   * moment. Undefined when its run key (or scheduled time) already has a run.
   */
  insertRun(run: NewRun): Promise<RunRecord | undefined> {
    return this.launches.submit(run);
  }

  /**
   * Creates runs in QUEUED with their tags and RUN_ENQUEUED events, in one statement. Runs whose
   * (instigator, run key) or (instigator, scheduled time) already exists are silently not created.
   */
  async insertRuns(runs: readonly NewRun[], db: Queryable = this.postgres): Promise<RunRecord[]> {
    if (runs.length === 0) {
      return [];
    }
    const input = JSON.stringify(
      runs.map((r) => ({
        run_id: r.runId,
        job_name: r.jobName,
        run_config: r.runConfig ?? {},
        tags: r.tags,
        parent_run_id: r.parentRunId ?? null,
        root_run_id: r.rootRunId ?? null,
        step_keys_to_execute: r.stepKeysToExecute ?? null,
        instigator_type: r.instigatorType,
        instigator_name: r.instigatorName ?? null,
        run_key: r.runKey ?? null,
        scheduled_time: r.scheduledTime?.toISOString() ?? null,
        priority: r.priority ?? 0,
        created_by: r.createdBy ?? null,
      })),
    );
    const { rows } = await db.query<Row>(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, job_name text, run_config jsonb, tags jsonb,
           parent_run_id uuid, root_run_id uuid, step_keys_to_execute text[], instigator_type text,
           instigator_name text, run_key text, scheduled_time timestamptz, priority integer, created_by text)
       ), created AS (
         INSERT INTO orch_runs (run_id, job_name, status, run_config, tags, parent_run_id, root_run_id,
           step_keys_to_execute, instigator_type, instigator_name, run_key, scheduled_time, priority, created_by)
         SELECT run_id, job_name, 'QUEUED', run_config, tags, parent_run_id, root_run_id, step_keys_to_execute,
           instigator_type, instigator_name, run_key, scheduled_time, priority, created_by
         FROM input
         ON CONFLICT DO NOTHING
         RETURNING *
       ), tagged AS (
         INSERT INTO orch_run_tags (run_id, key, value)
         SELECT created.run_id, t.key, t.value FROM created, jsonb_each_text(created.tags) AS t
       ), enqueued AS (
         INSERT INTO orch_event_logs (run_id, event_type, level, message)
         SELECT run_id, 'RUN_ENQUEUED', 'info', 'Enqueued run for "' || job_name || '".' FROM created
       )
       SELECT * FROM created`,
      [input],
    );
    return rows.map(toRun);
  }

  async get(runId: string, db: Queryable = this.postgres): Promise<RunRecord | undefined> {
    const { rows } = await db.query<Row>('SELECT * FROM orch_runs WHERE run_id = $1', [runId]);
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  async list(filter: RunFilter): Promise<{ runs: RunRecord[]; lastId?: number; more: boolean }> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown): void => {
      values.push(value);
      where.push(clause(`$${values.length}`));
    };
    if (filter.statuses && filter.statuses.length > 0) {
      add((p) => `status = ANY(${p}::text[])`, filter.statuses);
    }
    if (filter.jobName) {
      add((p) => `job_name = ${p}`, filter.jobName);
    }
    if (filter.createdAfter) {
      add((p) => `created_at > ${p}`, filter.createdAfter);
    }
    if (filter.createdBefore) {
      add((p) => `created_at < ${p}`, filter.createdBefore);
    }
    if (filter.beforeId !== undefined) {
      add((p) => `id < ${p}`, filter.beforeId);
    }
    for (const [key, value] of Object.entries(filter.tags ?? {})) {
      values.push(key, value);
      where.push(
        `EXISTS (SELECT 1 FROM orch_run_tags t WHERE t.run_id = r.run_id AND t.key = $${values.length - 1} AND t.value = $${values.length})`,
      );
    }
    values.push(filter.limit + 1);
    const { rows } = await this.postgres.query<Row>(
      `SELECT * FROM orch_runs r ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT $${values.length}`,
      values,
    );
    const more = rows.length > filter.limit;
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return { runs: page.map(toRun), more, ...(last ? { lastId: Number(last.id) } : {}) };
  }

  /**
   * Compare-and-set of a run's status with the run-level event that explains it, in one statement.
   * Returns the updated run, or undefined when the run was not in an expected status (or the fence moved).
   */
  async transition(
    runId: string,
    options: TransitionOptions,
    db: Queryable = this.postgres,
  ): Promise<(RunRecord & { readonly outboxId?: number }) | undefined> {
    const { rows } = await db.query<Row>(
      `WITH updated AS (
         UPDATE orch_runs SET
           status = $2,
           updated_at = now(),
           start_time = CASE WHEN $2 = 'STARTED' THEN coalesce(start_time, now()) ELSE start_time END,
           end_time = CASE WHEN $2 IN ${TERMINAL} THEN now() ELSE end_time END,
           failure_reason = coalesce($5, failure_reason),
           worker_id = coalesce($6, worker_id),
           heartbeat_at = CASE WHEN $6::text IS NOT NULL THEN now() ELSE heartbeat_at END
         WHERE run_id = $1 AND status = ANY($3::text[]) AND ($4::integer IS NULL OR resume_attempts = $4)
         RETURNING *
       ), logged AS (
         ${insertEvents(7, 'updated.run_id', 'updated')}
       ), ${storeOutputs(9, 'updated.run_id', 'updated')}, queued AS (
         INSERT INTO orch_outbox (kind, payload)
         SELECT 'cancel-run', jsonb_build_object('runId', run_id) FROM updated WHERE $8
         RETURNING id
       )
       SELECT updated.*, (SELECT id FROM queued) AS outbox_id FROM updated`,
      [
        runId,
        options.to,
        options.from,
        options.fence ?? null,
        options.failureReason === undefined ? null : pgSafeText(options.failureReason, MAX_MESSAGE_CHARS),
        options.workerId ?? null,
        eventsParam(options.events),
        options.broadcastCancel ?? false,
        outputsParam(options.outputs ?? []),
      ],
    );
    const row = rows[0];
    if (!row) {
      return undefined;
    }
    return { ...toRun(row), ...(row.outbox_id !== null ? { outboxId: Number(row.outbox_id) } : {}) };
  }

  /**
   * Claims a STARTED run for a resumed attempt: only the attempt the monitor handed out, and only once
   * (a duplicate delivery of the same attempt finds the worker already set).
   */
  async claimResume(
    runId: string,
    attempt: number,
    workerId: string,
    event: OrchestratorEvent,
  ): Promise<RunRecord | undefined> {
    const { rows } = await this.postgres.query<Row>(
      `WITH updated AS (
         UPDATE orch_runs SET worker_id = $3, heartbeat_at = now(), updated_at = now()
         WHERE run_id = $1 AND status = 'STARTED' AND resume_attempts = $2 AND worker_id IS NULL
         RETURNING *
       ), logged AS (
         ${insertEvents(4, 'updated.run_id', 'updated')}
       )
       SELECT * FROM updated`,
      [runId, attempt, workerId, eventsParam([event])],
    );
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  /**
   * Hands a STARTED run whose worker stopped heartbeating to a new attempt: bumps the fencing token,
   * records why, and queues an `execute-run` outbox row, all only if nobody did so meanwhile.
   */
  async resumeStalled(
    runId: string,
    seenAttempt: number,
    staleAfterMs: number,
    event: OrchestratorEvent,
  ): Promise<{ run: RunRecord; outboxId: number } | undefined> {
    const { rows } = await this.postgres.query<Row>(
      `WITH updated AS (
         UPDATE orch_runs SET resume_attempts = resume_attempts + 1, worker_id = NULL, heartbeat_at = now(),
           updated_at = now()
         WHERE run_id = $1 AND status = 'STARTED' AND resume_attempts = $2
           AND heartbeat_at < now() - make_interval(secs => $3::double precision / 1000)
         RETURNING *
       ), logged AS (
         ${insertEvents(4, 'updated.run_id', 'updated')}
       ), queued AS (
         INSERT INTO orch_outbox (kind, payload)
         SELECT 'execute-run', jsonb_build_object('runId', run_id, 'attempt', resume_attempts) FROM updated
         RETURNING id
       )
       SELECT updated.*, queued.id AS outbox_id FROM updated, queued`,
      [runId, seenAttempt, staleAfterMs, eventsParam([event])],
    );
    const row = rows[0];
    return row ? { run: toRun(row), outboxId: Number(row.outbox_id) } : undefined;
  }

  /**
   * One coordinator pass under a transaction-scoped advisory lock: `choose` sees the in-progress counts
   * and the queue and returns the runs to start; they move QUEUED → STARTING with their RUN_STARTING
   * events and `execute-run` outbox rows. Returns the outbox ids to relay.
   */
  async dequeue(
    limitedTagKeys: readonly string[],
    candidates: number,
    choose: (snapshot: CoordinatorSnapshot) => readonly string[],
  ): Promise<number[]> {
    return this.postgres.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        lockKey(this.postgres.schema, 'coordinator'),
      ]);
      const progress = await client.query<{ run_id: string; tags: Record<string, string> }>(
        `SELECT run_id, CASE WHEN cardinality($1::text[]) = 0 THEN '{}'::jsonb ELSE tags END AS tags
         FROM orch_runs WHERE status IN ('STARTING', 'STARTED', 'CANCELING')`,
        [limitedTagKeys],
      );
      const queued = await client.query<{ run_id: string; tags: Record<string, string> }>(
        `SELECT run_id, tags FROM orch_runs WHERE status = 'QUEUED' ORDER BY priority DESC, id LIMIT $1`,
        [candidates],
      );
      const chosen = choose({
        inProgress: progress.rows.length,
        inProgressTags: progress.rows.map((r) => r.tags),
        queued: queued.rows.map((r) => ({ runId: r.run_id, tags: r.tags })),
      });
      if (chosen.length === 0) {
        return [];
      }
      const { rows } = await client.query<{ id: string }>(
        `WITH started AS (
           UPDATE orch_runs SET status = 'STARTING', updated_at = now()
           WHERE run_id = ANY($1::uuid[]) AND status = 'QUEUED'
           RETURNING run_id, job_name, resume_attempts
         ), logged AS (
           INSERT INTO orch_event_logs (run_id, event_type, level, message)
           SELECT run_id, 'RUN_STARTING', 'info', 'Launching run for "' || job_name || '".' FROM started
         )
         INSERT INTO orch_outbox (kind, payload)
         SELECT 'execute-run', jsonb_build_object('runId', run_id, 'attempt', resume_attempts) FROM started
         RETURNING id`,
        [chosen],
      );
      return rows.map((r) => Number(r.id));
    });
  }

  /** Runs in `status` whose last change is older than `olderThanMs`. */
  async findStale(status: RunStatus, olderThanMs: number, limit = 100): Promise<RunRecord[]> {
    const column = status === 'STARTED' ? 'heartbeat_at' : 'updated_at';
    const { rows } = await this.postgres.query<Row>(
      `SELECT * FROM orch_runs WHERE status = $1
         AND ${column} < now() - make_interval(secs => $2::double precision / 1000)
       ORDER BY id LIMIT $3`,
      [status, olderThanMs, limit],
    );
    return rows.map(toRun);
  }

  async countQueued(): Promise<number> {
    const { rows } = await this.postgres.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orch_runs WHERE status = 'QUEUED'`,
    );
    return rows[0]?.n ?? 0;
  }

  /** Proves the listed runs' workers are alive. */
  async heartbeat(runIds: readonly string[], workerId: string): Promise<void> {
    if (runIds.length > 0) {
      await this.postgres.query(
        `UPDATE orch_runs SET heartbeat_at = now() WHERE run_id = ANY($1::uuid[]) AND worker_id = $2
           AND status IN ('STARTED', 'CANCELING')`,
        [runIds, workerId],
      );
    }
  }

  /**
   * Appends events (not run-level transitions) and completed steps' outputs in one statement; a step
   * counts as done once its outputs are stored.
   */
  async appendEvents(
    runId: string,
    events: readonly OrchestratorEvent[],
    outputs: readonly StepOutputRow[] = [],
  ): Promise<void> {
    if (events.length === 0 && outputs.length === 0) {
      return;
    }
    await this.postgres.query(
      `WITH ${storeOutputs(3, '$1')}
       ${insertEvents(2, '$1')}`,
      [runId, eventsParam(events), outputsParam(outputs)],
    );
  }

  async loadOutput(
    runId: string,
    stepKey: string,
    output: string,
  ): Promise<{ found: boolean; value?: unknown }> {
    const { rows } = await this.postgres.query<{ value: unknown }>(
      'SELECT value FROM orch_step_outputs WHERE run_id = $1 AND step_key = $2 AND output_name = $3',
      [runId, stepKey, output],
    );
    return rows[0] ? { found: true, value: rows[0].value } : { found: false };
  }

  /** The steps of a run whose outputs are stored (they succeeded, in this run or a reused parent). */
  async completedSteps(runId: string): Promise<string[]> {
    const { rows } = await this.postgres.query<{ step_key: string }>(
      'SELECT DISTINCT step_key FROM orch_step_outputs WHERE run_id = $1',
      [runId],
    );
    return rows.map((r) => r.step_key);
  }

  /** Creates a re-execution run and copies the reused steps' outputs from its parent, atomically. */
  async insertReexecution(
    run: NewRun,
    parentRunId: string,
    reusedSteps: readonly string[],
  ): Promise<RunRecord> {
    return this.postgres.transaction(async (client) => {
      const [created] = await this.insertRuns([run], client);
      if (!created) {
        throw new Error(`run ${run.runId} already exists`);
      }
      await client.query(
        `INSERT INTO orch_step_outputs (run_id, step_key, output_name, value, source_run_id)
         SELECT $1, step_key, output_name, value, coalesce(source_run_id, run_id)
         FROM orch_step_outputs WHERE run_id = $2 AND step_key = ANY($3::text[])`,
        [run.runId, parentRunId, reusedSteps],
      );
      return created;
    });
  }

  /** Deletes the events of finished runs created before `cutoff`, keeping asset materializations. */
  async deleteEventsOfRunsBefore(cutoff: Date): Promise<number> {
    const { rowCount } = await this.postgres.query(
      `DELETE FROM orch_event_logs e USING orch_runs r
       WHERE e.run_id = r.run_id AND r.created_at < $1 AND r.status IN ${TERMINAL}
         AND e.event_type <> 'ASSET_MATERIALIZATION'`,
      [cutoff],
    );
    return rowCount ?? 0;
  }
}
