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

/** What a client that fetches a blob straight from the store should be told about it. */
export interface DirectUrlOptions {
  readonly expiresInSeconds: number;
  readonly filename?: string;
  readonly contentType?: string;
}

/** What a sweep of leftovers removed. */
export interface LeftoverSweep {
  /** Objects (or files) of uploads that never became a blob, and bytes no blob refers to any more. */
  readonly removed: number;
  /** Multipart uploads begun and never completed or aborted (S3 keeps their parts until then). */
  readonly abortedUploads: number;
}

/**
 * Content-addressed byte storage: a local directory (the default) or an S3-compatible object store.
 * Keys are sha-256 hex and writes are idempotent, so any process can serve any blob.
 */
export interface BlobStore {
  /** `local` or `s3`: names the store in logs, health and the migration command. */
  readonly kind: BlobStoreKind;
  put(source: Readable, options?: PutOptions): Promise<StoredBlob>;
  /** Size in bytes, or undefined when no blob has this key. */
  stat(key: string): Promise<{ size: number } | undefined>;
  read(key: string, range?: ByteRange): Readable;
  /**
   * The bytes (or `range` of them) once the store has answered, in one request (S3: two the first time a
   * process reads a blob stored as a pointer); undefined when no blob has this key. For serving: a
   * missing blob is known before any response is begun.
   */
  open(key: string, range?: ByteRange): Promise<Readable | undefined>;
  delete(key: string): Promise<void>;
  /** Every key stored, in no particular order. */
  keys(): AsyncIterable<string>;
  /**
   * A URL that fetches the blob from the store itself until it expires, without the hub in the path;
   * undefined when the store cannot hand out such URLs (the local directory).
   */
  directUrl(key: string, options: DirectUrlOptions): Promise<string | undefined>;
  ping(): Promise<void>;
  /**
   * Removes what interrupted writes left behind before `olderThan` (a process killed mid-upload or
   * mid-delete). Never touches a stored blob; later leftovers are left, as they may be writes in progress.
   */
  sweepLeftovers(olderThan: Date): Promise<LeftoverSweep>;
}

export type BlobStoreKind = 'local' | 's3';

export const BLOB_STORE = Symbol('BLOB_STORE');

export const BLOB_KEY_PATTERN = /^[0-9a-f]{64}$/;
