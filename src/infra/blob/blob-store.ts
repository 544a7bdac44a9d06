import type { Readable } from 'node:stream';

export interface StoredBlob {
  /** The content address: lower-case hex sha-256 of the bytes. */
  readonly key: string;
  readonly size: number;
  readonly sha256: string;
  readonly md5: string;
  /** False when identical bytes were already stored and this write was folded into them. */
  readonly created: boolean;
}

export interface ByteRange {
  readonly start: number;
  /** Inclusive, as in HTTP Range headers. */
  readonly end: number;
}

export interface PutOptions {
  /** Refuse (and discard) a stream longer than this many bytes. */
  readonly maxBytes?: number;
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The content exceeds the limit of ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

/**
 * Content-addressed byte storage. The local directory implementation is the default; an S3-compatible
 * store can implement the same contract (keys are sha-256 hex, writes are idempotent).
 */
export interface BlobStore {
  put(source: Readable, options?: PutOptions): Promise<StoredBlob>;
  /** Size in bytes, or undefined when no blob has this key. */
  stat(key: string): Promise<{ size: number } | undefined>;
  read(key: string, range?: ByteRange): Readable;
  delete(key: string): Promise<void>;
  ping(): Promise<void>;
}

export const BLOB_STORE = Symbol('BLOB_STORE');

export const BLOB_KEY_PATTERN = /^[0-9a-f]{64}$/;
