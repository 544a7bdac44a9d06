import {
  MongoBulkWriteError,
  type AnyBulkWriteOperation,
  type Collection,
  type Document,
  type WriteError,
} from 'mongodb';

import { retryTransient } from './mongo-errors.js';

/**
 * The most write statements one bulk command carries. FerretDB v1 never answers an update command of
 * 100 statements or more (99 return in milliseconds), and the driver would send thousands in one
 * command; MongoDB is just as fast with slices of this size.
 */
export const MAX_WRITE_STATEMENTS = 64;

export interface BulkCounts {
  readonly matchedCount: number;
  readonly modifiedCount: number;
  readonly upsertedCount: number;
}

/** An unordered bulk write sent in slices of {@link MAX_WRITE_STATEMENTS}, retrying transient errors. */
export async function bulkWriteInSlices<T extends Document>(
  collection: Collection<T>,
  operations: readonly AnyBulkWriteOperation<T>[],
): Promise<BulkCounts> {
  let matchedCount = 0;
  let modifiedCount = 0;
  let upsertedCount = 0;
  for (let start = 0; start < operations.length; start += MAX_WRITE_STATEMENTS) {
    const slice = operations.slice(start, start + MAX_WRITE_STATEMENTS);
    const result = await retryTransient(() => collection.bulkWrite(slice, { ordered: false }));
    matchedCount += result.matchedCount;
    modifiedCount += result.modifiedCount;
    upsertedCount += result.upsertedCount;
  }
  return { matchedCount, modifiedCount, upsertedCount };
}

/**
 * Creates each entry missing from `collection` (named by its uniquely indexed `id`) and writes `refresh`
 * of each onto the stored one. Not an upsert: on FerretDB two processes upserting one new entry both
 * insert it and the second fails on the unique index, while an insert that meets a duplicate here just
 * moves on. The refresh is a plain overwrite of fields the seed owns with the seed's values, which every
 * process writes alike, so no read-modify-write is involved.
 */
export async function seedEntries<T extends { id: string }>(
  collection: Collection<Document>,
  entries: readonly T[],
  createdAt: Date,
  refresh: (entry: T) => Record<string, unknown>,
): Promise<void> {
  for (let start = 0; start < entries.length; start += MAX_WRITE_STATEMENTS) {
    const slice = entries.slice(start, start + MAX_WRITE_STATEMENTS);
    try {
      await retryTransient(() =>
        collection.insertMany(
          slice.map((entry) => ({ ...entry, created_at: createdAt })),
          { ordered: false },
        ),
      );
    } catch (error) {
      const writeErrors =
        error instanceof MongoBulkWriteError ? ([] as WriteError[]).concat(error.writeErrors) : [];
      if (writeErrors.length === 0 || writeErrors.some((writeError) => writeError.code !== 11000)) {
        throw error;
      }
    }
  }
  const updates = entries
    .map((entry) => ({ entry, set: refresh(entry) }))
    .filter(({ set }) => Object.keys(set).length > 0)
    .map(({ entry, set }) => ({ updateOne: { filter: { id: entry.id }, update: { $set: set } } }));
  await bulkWriteInSlices(collection, updates);
}
