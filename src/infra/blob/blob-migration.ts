import type { BlobStore } from './blob-store.js';

export interface MigrationProgress {
  /** Blobs looked at so far. */
  readonly seen: number;
  readonly copied: number;
  /** Already in the target with the right size (an earlier, interrupted run copied them). */
  readonly alreadyThere: number;
  readonly failed: number;
  readonly bytesCopied: number;
}

export interface MigrationFailure {
  readonly key: string;
  readonly reason: string;
}

export interface MigrationResult extends MigrationProgress {
  readonly failures: readonly MigrationFailure[];
}

export interface MigrationOptions {
  /** Blobs copied at once. */
  readonly concurrency?: number;
  readonly onProgress?: (progress: MigrationProgress, key: string) => void;
}

/**
 * Copies every blob of `source` into `target`. Each copy is verified on the way: the target computes
 * the sha-256 of the bytes it received, which must equal the key (the content address) and the size
 * must equal the source's. Resumable by construction: a store only ever shows complete blobs under
 * their final key, so a blob already in the target at the right size is skipped, and a run that was
 * interrupted is simply run again. The source is left untouched.
 */
export async function migrateBlobs(
  source: BlobStore,
  target: BlobStore,
  options: MigrationOptions = {},
): Promise<MigrationResult> {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  let seen = 0;
  let copied = 0;
  let alreadyThere = 0;
  let bytesCopied = 0;
  const failures: MigrationFailure[] = [];
  const progress = (): MigrationProgress => ({
    seen,
    copied,
    alreadyThere,
    failed: failures.length,
    bytesCopied,
  });

  const copyOne = async (key: string): Promise<void> => {
    try {
      const original = await source.stat(key);
      if (!original) {
        // Deleted since it was listed: nothing to copy.
        return;
      }
      const existing = await target.stat(key);
      if (existing?.size === original.size) {
        alreadyThere += 1;
        return;
      }
      const stored = await target.put(source.read(key));
      if (stored.sha256 !== key || stored.size !== original.size) {
        if (stored.created) {
          await target.delete(stored.key);
        }
        failures.push({
          key,
          reason: `the bytes read (${stored.size} bytes, sha-256 ${stored.sha256}) do not match the blob (${original.size} bytes)`,
        });
        return;
      }
      copied += 1;
      bytesCopied += stored.size;
    } catch (error) {
      failures.push({ key, reason: error instanceof Error ? error.message : String(error) });
    } finally {
      options.onProgress?.(progress(), key);
    }
  };

  const running = new Set<Promise<void>>();
  for await (const key of source.keys()) {
    seen += 1;
    const task = copyOne(key).finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) {
      await Promise.race(running);
    }
  }
  await Promise.all(running);
  return { ...progress(), failures };
}
