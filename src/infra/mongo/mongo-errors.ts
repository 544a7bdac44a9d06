/** True for MongoDB's duplicate-key error (E11000), which FerretDB reports the same way. */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * Drops Mongo's `_id` from a document. FerretDB v1 does not support projections on findAndModify,
 * so repositories strip it here instead.
 */
export function withoutMongoId<T extends object>(doc: (T & { _id?: unknown }) | null): T | null {
  if (!doc) {
    return null;
  }
  const { _id, ...rest } = doc;
  void _id;
  return rest as T;
}
