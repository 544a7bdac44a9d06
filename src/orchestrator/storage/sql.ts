import type { OrchestratorEvent } from '../core/index.js';
import { pgSafeEvent, pgSafeText } from './pg-safe.js';

/** Anything that runs a query: the pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * Events as one JSON parameter, expanded by `jsonb_to_recordset` (one round trip for any number). Text
 * PostgreSQL would refuse (NUL, lone surrogates) is escaped and long messages are capped, so recording
 * a failure never fails because of what the failure says.
 */
export function eventsParam(events: readonly OrchestratorEvent[]): string {
  return JSON.stringify(eventsJson(events));
}

/** The events of {@link eventsParam} before serialising, for a parameter that carries several runs' events. */
export function eventsJson(events: readonly OrchestratorEvent[]): Record<string, unknown>[] {
  return events.map((e) => {
    const { message, data } = pgSafeEvent(e.message, e.data);
    return {
      event_type: e.type,
      step_key: e.stepKey === undefined ? null : pgSafeText(e.stepKey),
      level: e.level,
      message,
      data,
      asset_key: e.assetKey === undefined ? null : pgSafeText(e.assetKey),
      ts: e.timestamp.toISOString(),
    };
  });
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

export interface StepOutputRow {
  readonly stepKey: string;
  readonly output: string;
  readonly value: unknown;
}

export function outputsParam(outputs: readonly StepOutputRow[]): string {
  return JSON.stringify(outputsJson(outputs));
}

export function outputsJson(outputs: readonly StepOutputRow[]): Record<string, unknown>[] {
  return outputs.map((o) => ({ step_key: o.stepKey, output_name: o.output, value: o.value }));
}

/** A CTE named `stored` upserting the step outputs bound to `$<param>` (see {@link insertEvents}). */
export function storeOutputs(param: number, runId: string, from?: string): string {
  return `stored AS (
    INSERT INTO orch_step_outputs (run_id, step_key, output_name, value)
    SELECT ${runId}, o.step_key, o.output_name, o.value
    FROM ${from ? `${from}, ` : ''}jsonb_to_recordset($${param}::jsonb) AS o(step_key text, output_name text, value jsonb)
    ON CONFLICT (run_id, step_key, output_name) DO UPDATE SET value = EXCLUDED.value, created_at = now()
  )`;
}

/**
 * An INSERT of the events of several runs: `updated` holds the runs a compare-and-set touched (with the
 * `request_index` of their request), `input` the requests with an `i` and their {@link eventsJson} in
 * `events`. Events are inserted by request, then in the order given, so ids follow that order.
 */
export function insertBatchEvents(updated: string, input: string): string {
  return `INSERT INTO orch_event_logs (run_id, event_type, step_key, level, message, data, asset_key, ts)
    SELECT u.run_id, e.doc->>'event_type', e.doc->>'step_key', e.doc->>'level', e.doc->>'message',
      nullif(e.doc->'data', 'null'::jsonb), e.doc->>'asset_key', (e.doc->>'ts')::timestamptz
    FROM ${updated} u JOIN ${input} x ON x.i = u.request_index,
      jsonb_array_elements(x.events) WITH ORDINALITY AS e(doc, n)
    ORDER BY u.request_index, e.n`;
}

/** A CTE named `stored` upserting the {@link outputsJson} in `outputs` of the requests that `updated` holds. */
export function storeBatchOutputs(updated: string, input: string): string {
  return `stored AS (
    INSERT INTO orch_step_outputs (run_id, step_key, output_name, value)
    SELECT u.run_id, o.doc->>'step_key', o.doc->>'output_name', nullif(o.doc->'value', 'null'::jsonb)
    FROM ${updated} u JOIN ${input} x ON x.i = u.request_index, jsonb_array_elements(x.outputs) AS o(doc)
    ON CONFLICT (run_id, step_key, output_name) DO UPDATE SET value = EXCLUDED.value, created_at = now()
  )`;
}

/** An advisory-lock key scoped to the schema, so isolated test schemas never contend. */
export function lockKey(schema: string, name: string): string {
  return `runtime-hub:${schema}:${name}`;
}
