import type { AnyBulkWriteOperation, Collection, Document } from 'mongodb';

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
