import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  BLOB_KEY_PATTERN,
  BlobTooLargeError,
  type BlobStore,
  type ByteRange,
  type PutOptions,
  type StoredBlob,
} from './blob-store.js';

class HashingCounter extends Transform {
  readonly sha256 = createHash('sha256');
  readonly md5 = createHash('md5');
  size = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      callback(new BlobTooLargeError(this.maxBytes));
      return;
    }
    this.sha256.update(chunk);
    this.md5.update(chunk);
    callback(null, chunk);
  }
}

/**
 * Stores blobs as files named by their sha-256 under `<root>/sha256/ab/cd/`. Bytes are streamed to a
 * temporary file while both digests are computed, then renamed into place, so readers never see a
 * partial blob and a crash leaves only a temporary file behind.
 */
export class LocalBlobStore implements BlobStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(source: Readable, options: PutOptions = {}): Promise<StoredBlob> {
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomUUID()}.part`);
    const counter = new HashingCounter(options.maxBytes ?? Number.MAX_SAFE_INTEGER);
    try {
      await pipeline(source, counter, createWriteStream(tmp, { flags: 'wx' }));
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    const sha256 = counter.sha256.digest('hex');
    const md5 = counter.md5.digest('hex');
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
    return { key: sha256, size: counter.size, sha256, md5, created };
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
    return createReadStream(this.pathOf(key), range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    if (BLOB_KEY_PATTERN.test(key)) {
      await rm(this.pathOf(key), { force: true });
    }
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  /** Only ever called with a validated key, so the path cannot leave the store. */
  private pathOf(key: string): string {
    return join(this.root, 'sha256', key.slice(0, 2), key.slice(2, 4), key);
  }
}
