import { randomUUID } from 'node:crypto';
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
import { digestPool, type DigestJob, type Digests } from './digest-pool.js';

/** Bytes handed to the digest worker at a time, and at most in flight to it before input waits. */
const DIGEST_BATCH_BYTES = 1024 * 1024;
const DIGEST_MAX_IN_FLIGHT = 16 * 1024 * 1024;

/**
 * Counts the bytes passing through and has them hashed on a worker thread, so receiving and writing
 * proceed while the previous megabyte is being hashed.
 */
class HashingCounter extends Transform {
  size = 0;
  private readonly job: DigestJob;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inFlight = 0;
  private continueInput: (() => void) | undefined;

  constructor(private readonly maxBytes: number) {
    super();
    this.job = digestPool().start((hashed) => {
      this.inFlight -= hashed;
      if (this.continueInput && this.inFlight <= DIGEST_MAX_IN_FLIGHT) {
        const continueInput = this.continueInput;
        this.continueInput = undefined;
        continueInput();
      }
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      callback(new BlobTooLargeError(this.maxBytes));
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= DIGEST_BATCH_BYTES) {
      this.handOver();
    }
    if (this.inFlight > DIGEST_MAX_IN_FLIGHT) {
      this.continueInput = () => callback(null, chunk);
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.handOver();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) {
      this.job.abandon();
    }
    callback(error);
  }

  digests(): Promise<Digests> {
    return this.job.end();
  }

  private handOver(): void {
    if (this.pendingBytes === 0) {
      return;
    }
    // A copy the worker can own: the chunks themselves may be reused by whoever produced them.
    const batch = new Uint8Array(this.pendingBytes);
    let offset = 0;
    for (const chunk of this.pending) {
      batch.set(chunk, offset);
      offset += chunk.length;
    }
    this.inFlight += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.job.update(batch);
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
