import type { OrchestratorEvent } from '../core/index.js';

/** Anything that runs a query: the pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** Events as one JSON parameter, expanded by `jsonb_to_recordset` (one round trip for any number). */
export function eventsParam(events: readonly OrchestratorEvent[]): string {
  return JSON.stringify(
    events.map((e) => ({
      event_type: e.type,
      step_key: e.stepKey ?? null,
      level: e.level,
      message: e.message,
      data: e.data ?? null,
      asset_key: e.assetKey ?? null,
      ts: e.timestamp.toISOString(),
    })),
  );
}

/** The FROM item expanding an {@link eventsParam} bound to `$<param>` into rows aliased `ev`. */
function eventRecordset(param: number): string {
  return `jsonb_to_recordset($${param}::jsonb) AS ev(event_type text, step_key text, level text, message text,
    data jsonb, asset_key text, ts timestamptz)`;
}

/**
 * An INSERT of the events bound to `$<param>` for the run `runId` (a parameter, or a column of the
 * `from` CTE so that only rows a compare-and-set touched get their events).
 */
export function insertEvents(param: number, runId: string, from?: string): string {
  return `INSERT INTO orch_event_logs (run_id, event_type, step_key, level, message, data, asset_key, ts)
    SELECT ${runId}, ev.event_type, ev.step_key, ev.level, ev.message, ev.data, ev.asset_key, ev.ts
    FROM ${from ? `${from}, ` : ''}${eventRecordset(param)}`;
}

/** An advisory-lock key scoped to the schema, so isolated test schemas never contend. */
export function lockKey(schema: string, name: string): string {
  return `runtime-hub:${schema}:${name}`;
}
