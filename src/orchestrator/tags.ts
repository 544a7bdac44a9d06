/** Tags the orchestrator sets itself (Dagster's names); callers may only set the priority. */
export const SYSTEM_TAG_PREFIX = 'dagster/';
export const PRIORITY_TAG = 'dagster/priority';

/** Priority from the `dagster/priority` tag: higher runs first (Dagster's rule). */
export function priorityOf(tags: Readonly<Record<string, string>>): number {
  const raw = tags[PRIORITY_TAG];
  return raw !== undefined && /^-?\d{1,9}$/.test(raw) ? Number(raw) : 0;
}
