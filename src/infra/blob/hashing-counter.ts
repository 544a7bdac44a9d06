import { Transform, type TransformCallback } from 'node:stream';

import { BlobTooLargeError } from './blob-store.js';
import { digestPool, type DigestJob, type Digests } from './digest-pool.js';

/** Bytes handed to the digest worker at a time, and at most in flight to it before input waits. */
const DIGEST_BATCH_BYTES = 1024 * 1024;
const DIGEST_MAX_IN_FLIGHT = 16 * 1024 * 1024;

/**
 * Counts the bytes passing through and has them hashed on a worker thread, so receiving and writing
 * proceed while the previous megabyte is being hashed.
 */
export class HashingCounter extends Transform {
  /** Bytes seen so far (not `size`: upload helpers read a body's `size` as its known length). */
  bytesSeen = 0;
  private readonly job: DigestJob;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inFlight = 0;
  private continueInput: (() => void) | undefined;
  private settled = false;

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
    this.bytesSeen += chunk.length;
    if (this.bytesSeen > this.maxBytes) {
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
      this.discard();
    }
    callback(error);
  }

  digests(): Promise<Digests> {
    this.settled = true;
    return this.job.end();
  }

  /**
   * Gives the digest job up when the bytes will not be kept: also after the stream itself ended well but
   * the write behind it failed, since a job never ended keeps its worker (and so the process) alive.
   */
  discard(): void {
    if (!this.settled) {
      this.settled = true;
      this.job.abandon();
    }
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
