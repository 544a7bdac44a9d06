import { Injectable } from '@nestjs/common';

import { PostgresService } from '../../infra/postgres/postgres.service.js';
import type { SerializedError, SensorLogLine } from '../core/index.js';
import { MAX_MESSAGE_CHARS, pgSafeJson, pgSafeText } from './pg-safe.js';
import { RunRepository } from './run.repository.js';
import {
  toInstigator,
  toTick,
  type InstigatorRecord,
  type InstigatorType,
  type NewRun,
  type Row,
  type RunRecord,
  type TickRecord,
} from './records.js';

export interface InstigatorDefinitionRow {
  readonly name: string;
  readonly type: InstigatorType;
  readonly defaultStatus: 'RUNNING' | 'STOPPED';
  readonly minIntervalMs?: number;
}

export type TickClaim =
  | { readonly outcome: 'busy' | 'in-progress' | 'stopped' | 'too-soon' | 'nothing-due' | 'unknown' }
  | {
      readonly outcome: 'claimed';
      readonly tickId: number;
      readonly instigator: InstigatorRecord;
      readonly scheduledTimes: readonly Date[];
      readonly skippedTimes: number;
    };

export interface TickCommit {
  readonly tickId: number;
  readonly name: string;
  /** The state column the tick advances, compared with what the claim read (compare-and-set). */
  readonly advance:
    | { readonly column: 'cursor'; readonly before: string | null; readonly after: string | null }
    | { readonly column: 'last_scheduled_time'; readonly before: Date | null; readonly after: Date };
  readonly runs: readonly NewRun[];
  readonly runKeys: readonly string[];
  readonly skipReason?: string;
  readonly logs?: readonly SensorLogLine[];
}

/** The tick lost a race: another evaluation moved the cursor (or schedule time) after this one read it. */
export class TickStateMovedError extends Error {
  constructor(name: string) {
    super(`the state of "${name}" changed during the tick; nothing was committed`);
    this.name = 'TickStateMovedError';
  }
}

/** Sensor and schedule state (status, cursor, last times) and their ticks. */
@Injectable()
export class InstigatorRepository {
  constructor(
    private readonly postgres: PostgresService,
    private readonly runs: RunRepository,
  ) {}

  /** Creates rows for new definitions with their default status; existing rows keep their status. */
  async sync(definitions: readonly InstigatorDefinitionRow[]): Promise<void> {
    if (definitions.length === 0) {
      return;
    }
    await this.postgres.query(
      `INSERT INTO orch_instigators (name, type, status, min_interval_ms, last_scheduled_time)
       SELECT name, type, status, min_interval_ms,
         CASE WHEN type = 'schedule' AND status = 'RUNNING' THEN now() END
       FROM jsonb_to_recordset($1::jsonb) AS x(name text, type text, status text, min_interval_ms integer)
       ON CONFLICT (name) DO UPDATE SET type = EXCLUDED.type, min_interval_ms = EXCLUDED.min_interval_ms,
         updated_at = now()
       WHERE orch_instigators.type IS DISTINCT FROM EXCLUDED.type
          OR orch_instigators.min_interval_ms IS DISTINCT FROM EXCLUDED.min_interval_ms`,
      [
        JSON.stringify(
          definitions.map((d) => ({
            name: d.name,
            type: d.type,
            status: d.defaultStatus,
            min_interval_ms: d.minIntervalMs ?? null,
          })),
        ),
      ],
    );
  }

  async list(type: InstigatorType): Promise<InstigatorRecord[]> {
    const { rows } = await this.postgres.query<Row>(
      'SELECT * FROM orch_instigators WHERE type = $1 ORDER BY name',
      [type],
    );
    return rows.map(toInstigator);
  }

  async get(name: string): Promise<InstigatorRecord | undefined> {
    const { rows } = await this.postgres.query<Row>('SELECT * FROM orch_instigators WHERE name = $1', [name]);
    return rows[0] ? toInstigator(rows[0]) : undefined;
  }

  /**
   * Starts or stops an instigator. A schedule started again counts its catch-up from now, not from
   * when it was stopped, as Dagster does.
   */
  async setStatus(name: string, status: 'RUNNING' | 'STOPPED'): Promise<InstigatorRecord | undefined> {
    const { rows } = await this.postgres.query<Row>(
      `UPDATE orch_instigators SET
         last_scheduled_time = CASE WHEN type = 'schedule' AND $2 = 'RUNNING' AND status = 'STOPPED'
                                    THEN now() ELSE last_scheduled_time END,
         status = $2, updated_at = now()
       WHERE name = $1 RETURNING *`,
      [name, status],
    );
    return rows[0] ? toInstigator(rows[0]) : undefined;
  }

  async ticks(name: string, limit: number, beforeId?: number): Promise<TickRecord[]> {
    const { rows } = await this.postgres.query<Row>(
      `SELECT * FROM orch_ticks WHERE instigator_name = $1 AND ($2::bigint IS NULL OR id < $2)
       ORDER BY id DESC LIMIT $3`,
      [name, beforeId ?? null, limit],
    );
    return rows.map(toTick);
  }

  /** The latest `perName` ticks of each named instigator. */
  async latestTicks(names: readonly string[], perName: number): Promise<Map<string, TickRecord[]>> {
    const { rows } = await this.postgres.query<Row>(
      `SELECT t.* FROM unnest($1::text[]) AS n(name)
       CROSS JOIN LATERAL (SELECT * FROM orch_ticks WHERE instigator_name = n.name ORDER BY id DESC LIMIT $2) t`,
      [names, perName],
    );
    const result = new Map<string, TickRecord[]>(names.map((n) => [n, []]));
    for (const row of rows) {
      result.get(row.instigator_name as string)?.push(toTick(row));
    }
    return result;
  }

  /**
   * Step 1 of the tick protocol: lock the instigator row (skipping it if another process holds it),
   * check it is running and due, stamp `last_tick_start` and record a STARTED tick, then commit.
   * `due` computes a schedule's scheduled times from its last one; sensors use the minimum interval.
   */
  async claimTick(
    name: string,
    type: InstigatorType,
    check: {
      readonly minIntervalMs?: number;
      /**
       * A wake-up: skip the minimum interval, but not while an evaluation started less than this long
       * ago has not ended (`in-progress`), so evaluations of one sensor never overlap.
       */
      readonly unlessEvaluatingWithinMs?: number;
      readonly due?: (last: Date | null) => { readonly times: readonly Date[]; readonly skipped: number };
    },
  ): Promise<TickClaim> {
    return this.postgres.transaction(async (client): Promise<TickClaim> => {
      const { rows } = await client.query<Row>(
        `SELECT *, extract(epoch FROM clock_timestamp() - last_tick_start) * 1000 AS since_ms,
           last_tick_start IS NOT NULL AND (last_tick_end IS NULL OR last_tick_end < last_tick_start)
             AS evaluating
         FROM orch_instigators WHERE name = $1 AND type = $2 FOR UPDATE SKIP LOCKED`,
        [name, type],
      );
      const row = rows[0];
      if (!row) {
        const exists = await client.query('SELECT 1 FROM orch_instigators WHERE name = $1', [name]);
        return { outcome: exists.rowCount ? 'busy' : 'unknown' };
      }
      const instigator = toInstigator(row);
      if (instigator.status !== 'RUNNING') {
        return { outcome: 'stopped' };
      }
      const sinceMs = row.since_ms === null ? null : Number(row.since_ms);
      if (check.minIntervalMs !== undefined && sinceMs !== null && sinceMs < check.minIntervalMs) {
        return { outcome: 'too-soon' };
      }
      if (
        check.unlessEvaluatingWithinMs !== undefined &&
        row.evaluating === true &&
        sinceMs !== null &&
        sinceMs < check.unlessEvaluatingWithinMs
      ) {
        return { outcome: 'in-progress' };
      }
      const due = check.due?.(instigator.lastScheduledTime ?? null);
      if (due && due.times.length === 0) {
        return { outcome: 'nothing-due' };
      }
      await client.query(
        'UPDATE orch_instigators SET last_tick_start = clock_timestamp(), updated_at = now() WHERE name = $1',
        [name],
      );
      const tick = await client.query<{ id: string }>(
        `INSERT INTO orch_ticks (instigator_name, instigator_type, status, cursor_before, scheduled_times)
         VALUES ($1, $2, 'STARTED', $3, $4::timestamptz[]) RETURNING id`,
        [name, type, instigator.cursor ?? null, (due?.times ?? []).map((t) => t.toISOString())],
      );
      return {
        outcome: 'claimed',
        tickId: Number(tick.rows[0]?.id),
        instigator,
        scheduledTimes: due?.times ?? [],
        skippedTimes: due?.skipped ?? 0,
      };
    });
  }

  /**
   * Step 3 of the tick protocol, in one transaction: create the requested runs (a run key or scheduled
   * time that already has a run creates nothing), advance the cursor or schedule time with a
   * compare-and-set on what the claim read, and finish the tick as SUCCESS or SKIPPED.
   */
  async commitTick(commit: TickCommit): Promise<RunRecord[]> {
    return this.postgres.transaction(async (client) => {
      const created = await this.runs.insertRuns(commit.runs, client);
      const { advance } = commit;
      const after = advance.column === 'cursor' ? advance.after : advance.after.toISOString();
      const before = advance.column === 'cursor' ? advance.before : (advance.before?.toISOString() ?? null);
      // timestamptz(3): compared at the precision the column stores and a JavaScript Date holds.
      const cast = advance.column === 'cursor' ? 'text' : 'timestamptz(3)';
      const moved = await client.query(
        `UPDATE orch_instigators SET ${advance.column} = $2::${cast}, last_tick_end = now(), updated_at = now(),
           last_run_key = coalesce($4, last_run_key)
         WHERE name = $1 AND ${advance.column} IS NOT DISTINCT FROM $3::${cast}`,
        [commit.name, after, before, commit.runKeys.at(-1) ?? null],
      );
      if (moved.rowCount === 0) {
        throw new TickStateMovedError(commit.name);
      }
      const skipReason =
        created.length > 0
          ? (commit.skipReason ?? null)
          : (commit.skipReason ??
            (commit.runs.length > 0
              ? `every requested run already exists (${commit.runs.length} request(s) de-duplicated)`
              : 'nothing to run'));
      await client.query(
        `UPDATE orch_ticks SET status = $2, ended_at = now(), cursor_after = $3, run_ids = $4::uuid[],
           run_keys = $5::text[], skip_reason = $6, logs = $7
         WHERE id = $1`,
        [
          commit.tickId,
          created.length > 0 ? 'SUCCESS' : 'SKIPPED',
          advance.column === 'cursor' ? advance.after : null,
          created.map((r) => r.runId),
          commit.runKeys,
          skipReason === null ? null : pgSafeText(skipReason, MAX_MESSAGE_CHARS),
          JSON.stringify(pgSafeJson(commit.logs ?? [])),
        ],
      );
      return created;
    });
  }

  /** A failed tick records its error and leaves the cursor where it was (Dagster's default). */
  async failTick(
    tickId: number,
    name: string,
    error: SerializedError,
    logs: readonly SensorLogLine[] = [],
  ): Promise<void> {
    await this.postgres.transaction(async (client) => {
      await client.query(
        `UPDATE orch_ticks SET status = 'FAILURE', ended_at = now(), error = $2, logs = $3 WHERE id = $1`,
        [tickId, JSON.stringify(pgSafeJson(error)), JSON.stringify(pgSafeJson(logs))],
      );
      await client.query(
        'UPDATE orch_instigators SET last_tick_end = now(), updated_at = now() WHERE name = $1',
        [name],
      );
    });
  }

  async deleteSkippedTicksBefore(cutoff: Date): Promise<number> {
    const { rowCount } = await this.postgres.query(
      `DELETE FROM orch_ticks WHERE status = 'SKIPPED' AND started_at < $1`,
      [cutoff],
    );
    return rowCount ?? 0;
  }
}
