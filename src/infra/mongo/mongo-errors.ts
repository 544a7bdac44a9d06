/** True for MongoDB's duplicate-key error (E11000), which FerretDB reports the same way. */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/** Runs an insert; false instead of an error when a unique index already holds its key. */
export async function insertUnlessDuplicate(insert: () => Promise<unknown>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) {
      return false;
    }
    throw error;
  }
}

/**
 * Drops Mongo's `_id` from a document. FerretDB v1 does not support projections on findAndModify,
 * so repositories strip it here instead.
 */
export function withoutMongoId<T extends object>(doc: T & { _id?: unknown }): T;
export function withoutMongoId<T extends object>(doc: (T & { _id?: unknown }) | null): T | null;
export function withoutMongoId<T extends object>(doc: (T & { _id?: unknown }) | null): T | null {
  if (!doc) {
    return null;
  }
  const { _id, ...rest } = doc;
  void _id;
  return rest as T;
}

/**
 * Errors a retry cures: MongoDB's write conflicts, and FerretDB's SQLite backend reporting
 * "database is locked" (SQLITE_BUSY) when many writers hit it at once. Neither applied the write.
 */
export function isTransientWriteError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) {
    return false;
  }
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 112 || (typeof message === 'string' && /SQLITE_BUSY|database is locked/.test(message));
}

/** Runs a write, retrying it with jittered backoff while the store reports a transient conflict. */
export async function retryTransient<T>(write: () => Promise<T>, attempts = 30): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= attempts || !isTransientWriteError(error)) {
        throw error;
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(250, 5 * 2 ** attempt) * (0.5 + Math.random())),
      );
    }
  }
}
