/**
 * Reads and writes of one document by its own key. FerretDB v1 answers a filter on `_id` from the
 * table's primary key, but scans the whole collection for a filter on any other field, indexed or not:
 * over 1,000 jobs a findOne took 5 ms by `_id` and 35 ms by `id`. So collections read by key on hot
 * paths (jobs, operations, claim slots) store `_id` equal to the key, and these helpers look there
 * first. Documents written before that keep a generated `_id`; they are still found by the key field.
 */

/** A collection's document type once `_id` holds the key (or, for older documents, a generated id). */
export type Keyed<T> = T & { _id?: string };

/** The document to insert, keyed by `key`. */
export function keyedBy<T extends object>(key: string, doc: T): T & { _id: string } {
  return { ...doc, _id: key };
}

/** Runs `query` with `{_id: key, …rest}`, and only when that finds nothing with `{[field]: key, …rest}`. */
export async function findByKey<R>(
  field: string,
  key: string,
  rest: Readonly<Record<string, unknown>>,
  query: (filter: Record<string, unknown>) => Promise<R | null>,
): Promise<R | null> {
  return (await query({ _id: key, ...rest })) ?? query({ [field]: key, ...rest });
}

/** The same for a write that answers how many documents it matched. */
export async function writeByKey(
  field: string,
  key: string,
  rest: Readonly<Record<string, unknown>>,
  write: (filter: Record<string, unknown>) => Promise<number>,
): Promise<number> {
  const matched = await write({ _id: key, ...rest });
  return matched > 0 ? matched : write({ [field]: key, ...rest });
}
