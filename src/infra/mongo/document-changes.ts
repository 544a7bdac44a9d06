/**
 * `$set` and `$unset` evaluated in the process, on a copy of the document, for changes committed through
 * the RevisionLog. Paths may be dotted (`metadata.progress`); missing parents are created as objects.
 */
export function withFieldsSet<T extends object>(doc: T, fields: Readonly<Record<string, unknown>>): T {
  const next = structuredClone(doc) as Record<string, unknown>;
  for (const [path, value] of Object.entries(fields)) {
    const parts = path.split('.');
    let target = next;
    for (const part of parts.slice(0, -1)) {
      const child = target[part];
      if (typeof child !== 'object' || child === null || Array.isArray(child)) {
        target[part] = {};
      }
      target = target[part] as Record<string, unknown>;
    }
    target[parts.at(-1)!] = value;
  }
  return next as T;
}

/** The document without the fields at `paths` (dotted paths allowed). */
export function withFieldsUnset<T extends object>(doc: T, paths: readonly string[]): T {
  const next = structuredClone(doc) as Record<string, unknown>;
  for (const path of paths) {
    const parts = path.split('.');
    let target: Record<string, unknown> | undefined = next;
    for (const part of parts.slice(0, -1)) {
      const child: unknown = target?.[part];
      target = typeof child === 'object' && child !== null ? (child as Record<string, unknown>) : undefined;
    }
    if (target) {
      delete target[parts.at(-1)!];
    }
  }
  return next as T;
}
