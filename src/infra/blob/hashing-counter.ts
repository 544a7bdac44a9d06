import { Transform, type TransformCallback } from 'node:stream';

import { BlobTooLargeError } from './blob-store.js';
import { LARGE_STREAM_BYTES, withHeapGrowth } from './heap-growth.js';
import { DIGEST_RING_BYTES, digestPool, type DigestJob, type Digests } from './digest-pool.js';

/** Bytes handed to the digest worker at a time. */
const DIGEST_BATCH_BYTES = 1024 * 1024;

/**
 * Counts the bytes passing through and has them hashed on a worker thread, so receiving and writing
 * proceed while the previous megabyte is being hashed. Bytes are copied into the job's shared ring (a
 * memcpy, no allocation) and handed over as regions of it; when the ring is full, input waits for the
 * worker, which is what bounds the memory of a fast upload and a slow hash.
 */
export class HashingCounter extends Transform {
  /** Bytes seen so far (not `size`: upload helpers read a body's `size` as its known length). */
  bytesSeen = 0;
  private readonly job: DigestJob;
  /** Where the next byte goes in the ring; the bytes before it not yet handed over are pending. */
  private writeAt = 0;
  private pendingBytes = 0;
  /** Handed over and not yet hashed: the ring cannot take them back yet. */
  private inFlight = 0;
  private continueInput: (() => void) | undefined;
  private settled = false;

  constructor(private readonly maxBytes: number) {
    super();
    this.job = digestPool().start((hashed) => {
      this.inFlight -= hashed;
      if (this.continueInput) {
        const continueInput = this.continueInput;
        this.continueInput = undefined;
        continueInput();
      }
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.bytesSeen < LARGE_STREAM_BYTES && this.bytesSeen + chunk.length >= LARGE_STREAM_BYTES) {
      // From here on the upload is a large stream, held until this stream ends or is destroyed.
      withHeapGrowth(this);
    }
    this.bytesSeen += chunk.length;
    if (this.bytesSeen > this.maxBytes) {
      callback(new BlobTooLargeError(this.maxBytes));
      return;
    }
    this.copyIn(chunk, 0, () => callback(null, chunk));
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
      this.continueInput = undefined;
      this.job.abandon();
    }
  }

  private copyIn(chunk: Buffer, from: number, done: () => void): void {
    while (from < chunk.length) {
      if (this.settled) {
        return;
      }
      const free = DIGEST_RING_BYTES - this.inFlight - this.pendingBytes;
      if (free === 0) {
        this.handOver();
        const resumeAt = from;
        this.continueInput = () => this.copyIn(chunk, resumeAt, done);
        return;
      }
      const length = Math.min(chunk.length - from, free, DIGEST_RING_BYTES - this.writeAt);
      this.job.ring.set(chunk.subarray(from, from + length), this.writeAt);
      this.writeAt = (this.writeAt + length) % DIGEST_RING_BYTES;
      this.pendingBytes += length;
      from += length;
      // A region handed over never wraps around the end of the ring.
      if (this.pendingBytes >= DIGEST_BATCH_BYTES || this.writeAt === 0) {
        this.handOver();
      }
    }
    done();
  }

  private handOver(): void {
    if (this.pendingBytes === 0) {
      return;
    }
    const end = this.writeAt === 0 ? DIGEST_RING_BYTES : this.writeAt;
    this.job.update(end - this.pendingBytes, this.pendingBytes);
    this.inFlight += this.pendingBytes;
    this.pendingBytes = 0;
  }
}
