import { Injectable } from '@nestjs/common';

import { PostgresService } from '../../infra/postgres/postgres.service.js';
import type { OrchestratorEvent, RunStatus } from '../core/index.js';
import { MicroBatcher } from './micro-batcher.js';
import type { OutboxMessage } from './outbox.repository.js';
import { isDataError, MAX_MESSAGE_CHARS, pgSafeText } from './pg-safe.js';
import { runColumns, toRun, type NewRun, type Row, type RunRecord } from './records.js';
import {
  eventsJson,
  eventsParam,
  insertBatchEvents,
  insertEvents,
  lockKey,
  outputsJson,
  outputsParam,
  storeBatchOutputs,
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

interface TransitionRequest {
  readonly runId: string;
  readonly options: TransitionOptions;
  /** Read the updated run back; without it the statement only says whether the change applied. */
  readonly record: boolean;
}

/** The updated run when its record was asked for, `true` when not, undefined when nothing changed. */
type TransitionResult = RunWithOutbox | true | undefined;

type SettledTransition = { readonly run: TransitionResult } | { readonly error: unknown };

/**
 * A run as a statement that may also write its outbox message left it: created STARTING, or moved by a
 * transition that broadcasts, carries the id of that message.
 */
export type RunWithOutbox = RunRecord & { readonly outboxId?: number };

/** A run row with the id of the outbox message its statement wrote (`outbox_id`, null when none). */
function toRunWithOutbox({ outbox_id: outboxId, ...run }: Row): RunWithOutbox {
  return {
    ...toRun(run),
    ...(outboxId !== null && outboxId !== undefined ? { outboxId: Number(outboxId) } : {}),
  };
}

/** A run as {@link RunRepository.insertRuns} sends it to PostgreSQL. */
interface InsertedRun {
  readonly run_id: string;
  readonly job_name: string;
  readonly run_config: unknown;
  readonly tags: Readonly<Record<string, string>>;
  readonly parent_run_id: string | null;
  readonly root_run_id: string | null;
  readonly step_keys_to_execute: readonly string[] | null;
  readonly instigator_type: RunRecord['instigatorType'];
  readonly instigator_name: string | null;
  readonly run_key: string | null;
  readonly scheduled_time: string | null;
  readonly priority: number;
  readonly created_by: string | null;
  readonly start: boolean;
  readonly started_by: string | null;
}

/**
 * The record of a run the insert created, read by {@link toRunWithOutbox} from the row it sent: the insert
 * returns only what PostgreSQL decided (the status, and `now()`, which every timestamp it set took).
 * Reading all 22 columns back cost the hub about 15 µs per run, parsing five timestamps and two JSON
 * documents it had just sent.
 */
function createdRun(
  { start: _start, started_by: workerId, scheduled_time: scheduledTime, ...sent }: InsertedRun,
  row: Row,
): RunWithOutbox {
  const at = row.created_at as Date;
  const started = workerId !== null;
  return toRunWithOutbox({
    ...sent,
    scheduled_time: scheduledTime === null ? null : new Date(scheduledTime),
    status: row.status,
    resume_attempts: 0,
    worker_id: workerId,
    heartbeat_at: started ? at : null,
    created_at: at,
    updated_at: at,
    start_time: started ? at : null,
    outbox_id: row.outbox_id,
  });
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

/** Two statements locked the same rows in opposite orders and PostgreSQL aborted this one. */
function isDeadlock(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '40P01';
}

const TERMINAL = `('SUCCESS', 'FAILURE', 'CANCELED')`;

/** Runs, their tags and run-level events. Every status change is a compare-and-set with its event. */
@Injectable()
export class RunRepository {
  private readonly transitions = new MicroBatcher<TransitionRequest, SettledTransition>((requests) =>
    this.transitionEach(requests),
  );

  private readonly launches = new MicroBatcher<NewRun, RunWithOutbox | undefined>(async (runs) => {
    const created = new Map((await this.insertRuns(runs)).map((run) => [run.runId, run]));
    return runs.map((run) => created.get(run.runId));
  });

  constructor(private readonly postgres: PostgresService) {}

  /**
   * Creates one run like {@link insertRuns}, batched with the launches other requests make at the same
   * moment. Undefined when its run key (or scheduled time) already has a run.
   */
  insertRun(run: NewRun): Promise<RunWithOutbox | undefined> {
    return this.launches.submit(run);
  }

  /**
   * Creates runs in QUEUED with their tags and RUN_ENQUEUED events, in one statement; those marked
   * `start` go on to STARTING in the same statement, with their RUN_STARTING events and `execute-run`
   * outbox messages (returned with them, to relay once committed), as a coordinator pass would have
   * moved them; those `startedBy` a worker go on to STARTED, claimed by it, with the RUN_START event its
   * claim would have written and no message (that worker executes them). Runs whose (instigator, run
   * key) or (instigator, scheduled time) already exists are silently not created.
   */
  async insertRuns(runs: readonly NewRun[], db: Queryable = this.postgres): Promise<RunWithOutbox[]> {
    if (runs.length === 0) {
      return [];
    }
    const input = JSON.stringify(
      runs.map((r): InsertedRun => ({
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
        start: r.start ?? false,
        started_by: r.startedBy ?? null,
      })),
    );
    // One row version per run instead of two (or three) for those started at once; their events keep
    // the order and wording of a run the coordinator started and a worker claimed.
    const text = `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, job_name text, run_config jsonb, tags jsonb,
           parent_run_id uuid, root_run_id uuid, step_keys_to_execute text[], instigator_type text,
           instigator_name text, run_key text, scheduled_time timestamptz, priority integer, created_by text,
           start boolean, started_by text)
       ), created AS (
         INSERT INTO orch_runs (run_id, job_name, status, run_config, tags, parent_run_id, root_run_id,
           step_keys_to_execute, instigator_type, instigator_name, run_key, scheduled_time, priority, created_by,
           worker_id, heartbeat_at, start_time)
         SELECT run_id, job_name,
           CASE WHEN started_by IS NOT NULL THEN 'STARTED' WHEN start THEN 'STARTING' ELSE 'QUEUED' END,
           run_config, tags, parent_run_id, root_run_id, step_keys_to_execute, instigator_type, instigator_name,
           run_key, scheduled_time, priority, created_by, started_by,
           CASE WHEN started_by IS NOT NULL THEN now() END, CASE WHEN started_by IS NOT NULL THEN now() END
         FROM input
         ON CONFLICT DO NOTHING
         RETURNING *
       ), tagged AS (
         INSERT INTO orch_run_tags (run_id, key, value)
         SELECT created.run_id, t.key, t.value FROM created, jsonb_each_text(created.tags) AS t
       ), logged AS (
         INSERT INTO orch_event_logs (run_id, event_type, level, message, data)
         SELECT created.run_id, e.event_type, 'info',
           CASE WHEN e.n = 3 THEN 'Started execution of the run.' ELSE e.prefix || created.job_name || '".' END,
           CASE WHEN e.n = 3 THEN jsonb_build_object('workerId', created.worker_id) END
         FROM created, (VALUES (1, 'RUN_ENQUEUED', 'Enqueued run for "'),
           (2, 'RUN_STARTING', 'Launching run for "'), (3, 'RUN_START', NULL)) AS e(n, event_type, prefix)
         WHERE e.n = 1 OR (e.n = 2 AND created.status IN ('STARTING', 'STARTED'))
           OR (e.n = 3 AND created.status = 'STARTED')
         ORDER BY created.id, e.n
       ), queued AS (
         INSERT INTO orch_outbox (kind, payload)
         SELECT 'execute-run', jsonb_build_object('runId', run_id, 'attempt', resume_attempts)
         FROM created WHERE status = 'STARTING' ORDER BY id
         RETURNING id, (payload->>'runId')::uuid AS run_id
       )
       SELECT created.run_id, created.status, created.created_at, queued.id AS outbox_id
       FROM created LEFT JOIN queued USING (run_id)`;
    const { rows } =
      db === this.postgres
        ? await this.postgres.queryPrepared<Row>('orch_insert_runs', text, [input])
        : await db.query<Row>(text, [input]);
    // The rest of each record is what was sent, read back from the very JSON PostgreSQL stored, so it
    // holds what a later read returns; only the status and the statement's clock come from the row.
    const sent = new Map((JSON.parse(input) as InsertedRun[]).map((run) => [run.run_id, run]));
    return rows.map((row) => createdRun(sent.get(row.run_id as string) as InsertedRun, row));
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
   * Compare-and-set of a run's status with the run-level event that explains it, in one statement
   * shared with the transitions other runs make at the same moment (each run worker claims and finishes
   * its run on its own, so with many short runs in flight these arrive together). Returns the updated
   * run, or undefined when the run was not in an expected status (or the fence moved).
   */
  async transition(runId: string, options: TransitionOptions): Promise<RunWithOutbox | undefined> {
    const run = await this.submitTransition({ runId, options, record: true });
    return run === true ? undefined : run;
  }

  /**
   * {@link transition} for a caller that only needs to know whether the change applied, such as a
   * worker writing its run's final status. The run is not read back: parsing a run's 22 columns
   * (five timestamps, two JSON documents) cost the hub about 15 µs per run, a twentieth of all it spent
   * on a one-op run, and PostgreSQL formatting them for the reply cost it more.
   */
  async finish(runId: string, options: TransitionOptions): Promise<boolean> {
    return (await this.submitTransition({ runId, options, record: false })) !== undefined;
  }

  private async submitTransition(request: TransitionRequest): Promise<TransitionResult> {
    const settled = await this.transitions.submit(request);
    if ('error' in settled) {
      throw settled.error;
    }
    return settled.run;
  }

  /**
   * Applies the transitions in one statement. When PostgreSQL refuses the data of one of them (an
   * output it cannot store), each is applied on its own, so only that run sees the error; so are they
   * after a deadlock with another batch that listed some of the same runs in another order.
   */
  private async transitionEach(requests: readonly TransitionRequest[]): Promise<SettledTransition[]> {
    try {
      return (await this.transitionMany(requests)).map((run) => ({ run }));
    } catch (error) {
      if (requests.length === 1 || !(isDataError(error) || isDeadlock(error))) {
        throw error;
      }
      return Promise.all(
        requests.map((request) =>
          this.transitionMany([request]).then(
            ([run]) => ({ run }),
            (alone: unknown) => ({ error: alone }),
          ),
        ),
      );
    }
  }

  private async transitionMany(requests: readonly TransitionRequest[]): Promise<TransitionResult[]> {
    const input = JSON.stringify(
      requests.map(({ runId, options, record }, i) => ({
        i,
        record,
        run_id: runId,
        to_status: options.to,
        from_statuses: options.from,
        fence: options.fence ?? null,
        failure_reason:
          options.failureReason === undefined ? null : pgSafeText(options.failureReason, MAX_MESSAGE_CHARS),
        worker_id: options.workerId ?? null,
        broadcast: options.broadcastCancel ?? false,
        events: eventsJson(options.events),
        outputs: outputsJson(options.outputs ?? []),
      })),
    );
    // A run listed twice is updated once (the other request lost the race); events are numbered by
    // request and position so they keep the order each caller gave them. The run ids come again as an
    // array: PostgreSQL guesses 100 rows for any jsonb_to_recordset, and hash-joining that many to
    // orch_runs it read the whole run history on every transition until that held tens of thousands
    // of runs; `run_id = ANY` tells it how few runs a batch names.
    const { rows } = await this.postgres.queryPrepared<Row>(
      'orch_transition_runs',
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(i integer, record boolean, run_id uuid,
           to_status text, from_statuses text[], fence integer, failure_reason text, worker_id text,
           broadcast boolean, events jsonb, outputs jsonb)
       ), updated AS (
         UPDATE orch_runs r SET
           status = x.to_status,
           updated_at = now(),
           start_time = CASE WHEN x.to_status = 'STARTED' THEN coalesce(r.start_time, now()) ELSE r.start_time END,
           end_time = CASE WHEN x.to_status IN ${TERMINAL} THEN now() ELSE r.end_time END,
           failure_reason = coalesce(x.failure_reason, r.failure_reason),
           worker_id = coalesce(x.worker_id, r.worker_id),
           heartbeat_at = CASE WHEN x.worker_id IS NOT NULL THEN now() ELSE r.heartbeat_at END
         FROM input x
         WHERE r.run_id = ANY($2::uuid[]) AND r.run_id = x.run_id AND r.status = ANY(x.from_statuses)
           AND (x.fence IS NULL OR r.resume_attempts = x.fence)
         RETURNING r.*, x.i AS request_index, x.record
       ), logged AS (
         ${insertBatchEvents('updated', 'input')}
       ), ${storeBatchOutputs('updated', 'input')}, queued AS (
         INSERT INTO orch_outbox (kind, payload)
         SELECT 'cancel-run', jsonb_build_object('runId', u.run_id)
         FROM updated u JOIN input x ON x.i = u.request_index WHERE x.broadcast
         RETURNING id, (payload->>'runId')::uuid AS run_id
       )
       SELECT ${runColumns('updated', 'updated.record')}, updated.request_index, updated.record,
         queued.id AS outbox_id
       FROM updated LEFT JOIN queued USING (run_id)`,
      [input, requests.map((r) => r.runId)],
    );
    const results: TransitionResult[] = requests.map(() => undefined);
    for (const { request_index: index, record, ...row } of rows) {
      results[Number(index)] = record === true ? toRunWithOutbox(row) : true;
    }
    return results;
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
   * events and `execute-run` outbox rows. Returns those outbox messages, to relay once committed.
   */
  async dequeue(
    limitedTagKeys: readonly string[],
    candidates: number,
    choose: (snapshot: CoordinatorSnapshot) => readonly string[],
  ): Promise<OutboxMessage[]> {
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
      const { rows } = await client.query<{ id: string; run_id: string; attempt: number }>(
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
         RETURNING id, payload->>'runId' AS run_id, (payload->>'attempt')::integer AS attempt`,
        [chosen],
      );
      return rows.map((r) => ({
        id: Number(r.id),
        kind: 'execute-run' as const,
        payload: { runId: r.run_id, attempt: r.attempt },
      }));
    });
  }

  /**
   * A coordinator pass without limits, in one statement: the first `limit` QUEUED runs by priority move
   * to STARTING like {@link dequeue}'s. Nothing to count means nothing to serialise, so no advisory lock:
   * the compare-and-set moves each run once, and a concurrent pass skips the rows this one holds. The
   * update finds the rows it locked by their address: nothing moves a locked QUEUED run meanwhile, and
   * finding them by status again read every run that ever was QUEUED (until vacuumed) a second time.
   */
  async dequeueUnlimited(limit: number): Promise<OutboxMessage[]> {
    const { rows } = await this.postgres.queryPrepared<{ id: string; run_id: string; attempt: number }>(
      'orch_dequeue_unlimited',
      `WITH chosen AS (
         SELECT ctid FROM orch_runs WHERE status = 'QUEUED' ORDER BY priority DESC, id LIMIT $1
         FOR UPDATE SKIP LOCKED
       ), started AS (
         UPDATE orch_runs r SET status = 'STARTING', updated_at = now()
         WHERE r.ctid = ANY(ARRAY(SELECT ctid FROM chosen))
         RETURNING r.id, r.priority, r.run_id, r.job_name, r.resume_attempts
       ), logged AS (
         INSERT INTO orch_event_logs (run_id, event_type, level, message)
         SELECT run_id, 'RUN_STARTING', 'info', 'Launching run for "' || job_name || '".' FROM started
         ORDER BY priority DESC, id
       )
       INSERT INTO orch_outbox (kind, payload)
       SELECT 'execute-run', jsonb_build_object('runId', run_id, 'attempt', resume_attempts) FROM started
       ORDER BY priority DESC, id
       RETURNING id, payload->>'runId' AS run_id, (payload->>'attempt')::integer AS attempt`,
      [limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      kind: 'execute-run' as const,
      payload: { runId: r.run_id, attempt: r.attempt },
    }));
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
