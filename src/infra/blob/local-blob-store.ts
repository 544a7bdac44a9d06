import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  BLOB_KEY_PATTERN,
  type BlobStore,
  type ByteRange,
  type LeftoverSweep,
  type PutOptions,
  type StoredBlob,
} from './blob-store.js';
import { HashingCounter } from './hashing-counter.js';
import { withHeapGrowth } from './heap-growth.js';

/**
 * Stores blobs as files named by their sha-256 under `<root>/sha256/ab/cd/`. Bytes are streamed to a
 * temporary file while both digests are computed, then renamed into place, so readers never see a
 * partial blob and a crash leaves only a temporary file behind.
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local';
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(source: Readable, options: PutOptions = {}): Promise<StoredBlob> {
    // The source may fail while the directory is being made, before the pipeline listens for its errors;
    // an 'error' nobody listens to would crash the process.
    let earlyError: Error | undefined;
    const onEarlyError = (error: Error): void => {
      earlyError = error;
    };
    source.once('error', onEarlyError);
    const tmpDir = join(this.root, 'tmp');
    try {
      await mkdir(tmpDir, { recursive: true });
    } finally {
      source.off('error', onEarlyError);
    }
    if (earlyError) {
      throw earlyError;
    }
    const tmp = join(tmpDir, `${randomUUID()}.part`);
    const counter = new HashingCounter(options.maxBytes ?? Number.MAX_SAFE_INTEGER);
    try {
      await pipeline(source, counter, createWriteStream(tmp, { flags: 'wx' }));
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    const { sha256, md5 } = await counter.digests();
    const target = this.pathOf(sha256);
    let created = true;
    try {
      await access(target);
      created = false;
      await rm(tmp, { force: true });
    } catch {
      await mkdir(dirname(target), { recursive: true });
      await rename(tmp, target);
    }
    return { key: sha256, size: counter.bytesSeen, sha256, md5, created };
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    if (!BLOB_KEY_PATTERN.test(key)) {
      return undefined;
    }
    try {
      const info = await stat(this.pathOf(key));
      return { size: info.size };
    } catch {
      return undefined;
    }
  }

  read(key: string, range?: ByteRange): Readable {
    if (!BLOB_KEY_PATTERN.test(key)) {
      throw new Error(`Not a blob key: ${key}`);
    }
    return withHeapGrowth(
      createReadStream(this.pathOf(key), range ? { start: range.start, end: range.end } : {}),
      range ? range.end - range.start + 1 : undefined,
    );
  }

  async open(key: string, range?: ByteRange): Promise<Readable | undefined> {
    if (!BLOB_KEY_PATTERN.test(key)) {
      return undefined;
    }
    let file: FileHandle;
    try {
      file = await open(this.pathOf(key), 'r');
    } catch {
      return undefined;
    }
    // Unknown (a failed stat) counts as large, as for read().
    const size = range
      ? range.end - range.start + 1
      : await file.stat().then(
          (info) => info.size,
          () => undefined,
        );
    return withHeapGrowth(file.createReadStream(range ? { start: range.start, end: range.end } : {}), size);
  }

  async delete(key: string): Promise<void> {
    if (BLOB_KEY_PATTERN.test(key)) {
      await rm(this.pathOf(key), { force: true });
    }
  }

  async *keys(): AsyncIterable<string> {
    // Level by level (256 × 256 directories at most above the files) rather than one recursive
    // listing, so a store of millions of blobs is never listed into memory at once.
    const top = join(this.root, 'sha256');
    for (const first of await namesIn(top)) {
      for (const second of await namesIn(join(top, first))) {
        for (const name of await namesIn(join(top, first, second))) {
          if (BLOB_KEY_PATTERN.test(name)) {
            yield name;
          }
        }
      }
    }
  }

  directUrl(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  /** Temporary files of uploads the process did not live to finish. */
  async sweepLeftovers(olderThan: Date): Promise<LeftoverSweep> {
    const tmpDir = join(this.root, 'tmp');
    let removed = 0;
    for (const name of await namesIn(tmpDir)) {
      const path = join(tmpDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info?.isFile() && info.mtime < olderThan) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return { removed, abortedUploads: 0 };
  }

  /** Only ever called with a validated key, so the path cannot leave the store. */
  private pathOf(key: string): string {
    return join(this.root, 'sha256', key.slice(0, 2), key.slice(2, 4), key);
  }
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return [];
    }
    throw error;
  }
}
