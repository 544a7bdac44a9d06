import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type GetObjectCommandOutput,
  type _Object,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LRUCache } from 'lru-cache';

import {
  BLOB_KEY_PATTERN,
  type BlobStore,
  type ByteRange,
  type DirectUrlOptions,
  type LeftoverSweep,
  type PutOptions,
  type StoredBlob,
} from './blob-store.js';
import { HashingCounter } from './hashing-counter.js';
import { withHeapGrowth } from './heap-growth.js';

export interface S3BlobStoreOptions {
  /** The S3 API address, e.g. http://127.0.0.1:8333; undefined means AWS itself for the region. */
  readonly endpoint?: string;
  /** The address clients reach the store at, for direct URLs (defaults to the endpoint). */
  readonly publicEndpoint?: string;
  readonly region: string;
  readonly bucket: string;
  /** Prepended to every object key, so several hubs (or test runs) can share one bucket. */
  readonly keyPrefix?: string;
  /** Without them the SDK's own chain is used (environment, profile, instance role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** `bucket` in the path rather than the host name, as most self-hosted S3 servers need. */
  readonly forcePathStyle: boolean;
  /** Size of each uploaded part; parts in flight times this is the memory an upload holds. */
  readonly partSizeBytes?: number;
  readonly partsInFlight?: number;
  /** Content up to this size is held in memory and PUT straight to its content address (default: one part). */
  readonly singlePutLimitBytes?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_PARTS_IN_FLIGHT = 4;
/** Content addresses whose data key is remembered (each entry is a few hundred bytes). */
const LOCATION_CACHE_SIZE = 10_000;
/**
 * How long a remembered location is trusted without asking the store again. Reads notice a stale one
 * anyway (its data key is gone); this bounds how long a presigned URL may name the data of a blob that
 * another process deleted and then stored again.
 */
const LOCATION_TTL_MS = 10 * 60 * 1000;
/** User metadata of a pointer: the data key (relative to the prefix) and the blob's size. */
const POINTER_DATA = 'rh-data';
const POINTER_SIZE = 'rh-size';
const LIST_PAGE = 1000;
const SWEEP_HEADS_IN_FLIGHT = 8;

/** Whether the store answered `status`, or one of the error `names` SDKs report for it. */
function answered(error: unknown, status: number, ...names: string[]): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return $metadata?.httpStatusCode === status || (name !== undefined && names.includes(name));
}

const isNotFound = (error: unknown): boolean => answered(error, 404, 'NotFound', 'NoSuchKey');
/** The address exists already: a conditional PUT answered 412. */
const isAlreadyThere = (error: unknown): boolean => answered(error, 412, 'PreconditionFailed');
/** Another conditional PUT of the same key was in progress (AWS answers 409 and asks for a retry). */
const isConditionalConflict = (error: unknown): boolean => answered(error, 409, 'ConditionalRequestConflict');
/** A server that does not implement `If-None-Match` on PUT may refuse the header outright. */
const isUnsupportedCondition = (error: unknown): boolean => answered(error, 501, 'NotImplemented');
const isInvalidRange = (error: unknown): boolean => answered(error, 416, 'InvalidRange');

/** Where a blob's bytes are: its address itself (a whole object) or the data key a pointer names. */
interface Location {
  readonly objectKey: string;
  readonly size: number;
}

/**
 * Stores blobs in an S3-compatible bucket, each found at its content address `<prefix>sha256/<sha-256>`.
 *
 * Content of up to one part is hashed in memory and PUT straight to its address, whole. Larger content
 * is streamed as a multipart upload to `<prefix>data/<uuid>` while both digests are computed on the way
 * (memory stays at a few parts whatever the size), and stays there: once the digest is known the address
 * is created as an empty pointer object whose metadata names the data key and size. S3 cannot rename,
 * and copying the bytes to the address would cost as much as the upload; the pointer costs one small
 * PUT. It is written with `If-None-Match: *`, so of two identical uploads at once exactly one creates
 * the address and the other deletes its own data (where the server ignores the condition, a HEAD before
 * the PUT still folds sequential duplicates, and a lost race leaves only unreferenced data, which the
 * leftover sweep removes). Readers never see a partial blob: the address appears only once the bytes
 * are complete.
 *
 * Reads resolve a pointer once and remember the location (the mapping never changes while the blob
 * lives), so a download is one GET. A location gone stale (the blob was deleted, perhaps stored again)
 * shows as a missing data key and is resolved afresh. Deleting removes the address first, then the
 * data, so a crash in between leaves unreferenced data rather than an address without bytes.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly publicClient: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly partsInFlight: number;
  private readonly singlePutLimit: number;
  /** Address → location, least recently used out first, each trusted for LOCATION_TTL_MS. */
  private readonly locations: LRUCache<string, Location>;
  private readonly partBuffers: BufferPool;
  /** Cleared when the server refuses `If-None-Match` on PUT; then a HEAD before the PUT has to do. */
  private conditionalPuts = true;
  private bucketReady: Promise<void> | undefined;

  constructor(options: S3BlobStoreOptions) {
    const common = {
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      // A copy: the SDK annotates the credentials object, and the configuration's is frozen.
      ...(options.credentials
        ? {
            credentials: {
              accessKeyId: options.credentials.accessKeyId,
              secretAccessKey: options.credentials.secretAccessKey,
            },
          }
        : {}),
      // Checksums beyond what S3 requires cost a pass over every byte and are not implemented by every
      // S3-compatible server; the hub computes and verifies its own sha-256 and md5 anyway.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    } as const;
    this.client = new S3Client({
      ...common,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    });
    const publicEndpoint = options.publicEndpoint ?? options.endpoint;
    this.publicClient =
      publicEndpoint === options.endpoint
        ? this.client
        : new S3Client({ ...common, ...(publicEndpoint ? { endpoint: publicEndpoint } : {}) });
    this.bucket = options.bucket;
    this.prefix = options.keyPrefix ?? '';
    this.partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
    this.partsInFlight = options.partsInFlight ?? DEFAULT_PARTS_IN_FLIGHT;
    this.singlePutLimit = options.singlePutLimitBytes ?? this.partSize;
    this.locations = new LRUCache({ max: LOCATION_CACHE_SIZE, ttl: LOCATION_TTL_MS });
    // Enough for one upload's parts in flight and the one being filled; more are made when uploads overlap.
    this.partBuffers = new BufferPool(this.partSize, this.partsInFlight + 1);
  }

  async put(source: Readable, options: PutOptions = {}): Promise<StoredBlob> {
    const counter = new HashingCounter(options.maxBytes ?? Number.MAX_SAFE_INTEGER);
    // The source may fail while the bucket is being checked, before anything listens for its errors.
    let earlyError: Error | undefined;
    const onEarlyError = (error: Error): void => {
      earlyError = error;
    };
    source.once('error', onEarlyError);
    try {
      await this.ensureBucket();
    } finally {
      source.off('error', onEarlyError);
    }
    if (earlyError) {
      throw earlyError;
    }
    const piping = pipeline(source, counter);
    // Observed by whichever path below ends up waiting on it (or failing before it could).
    piping.catch(() => undefined);
    const chunks = counter[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    try {
      while (headBytes <= this.singlePutLimit) {
        const next = await chunks.next();
        if (next.done) {
          ended = true;
          break;
        }
        head.push(next.value);
        headBytes += next.value.length;
      }
      if (ended) {
        await piping;
      }
    } catch (error) {
      counter.discard();
      if (!counter.destroyed) {
        counter.destroy();
      }
      throw error;
    }
    return ended
      ? this.putWhole(Buffer.concat(head, headBytes), counter)
      : this.putStreamed(head, chunks, piping, counter);
  }

  /**
   * Content that fits in one part is held whole, so once hashed it goes straight to its content address
   * in one PUT: atomic, so a crash leaves nothing half-written there, and no pointer is needed.
   */
  private async putWhole(bytes: Buffer, counter: HashingCounter): Promise<StoredBlob> {
    const { sha256, md5 } = await counter.digests();
    const target = this.objectKey(sha256);
    const stored = { key: sha256, size: bytes.length, sha256, md5 };
    if ((await this.locate(target)) !== undefined) {
      return { ...stored, created: false };
    }
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: target,
        Body: bytes,
        ContentLength: bytes.length,
        // The store checks the bytes it received against the digest the hub computed.
        ContentMD5: Buffer.from(md5, 'hex').toString('base64'),
      }),
    );
    return { ...stored, created: true };
  }

  /**
   * Larger content is streamed as a multipart upload to a data key of its own while it is hashed (memory
   * stays at a few parts whatever the size); then its content address is made to point there.
   */
  private async putStreamed(
    head: Buffer[],
    rest: AsyncIterator<Buffer>,
    piping: Promise<void>,
    counter: HashingCounter,
  ): Promise<StoredBlob> {
    const dataKey = `${this.prefix}data/${randomUUID()}`;
    try {
      await this.uploadParts(dataKey, head, rest, piping);
    } catch (error) {
      counter.discard();
      if (!counter.destroyed) {
        counter.destroy();
      }
      await this.deleteRaw(dataKey).catch(() => undefined);
      throw error;
    }
    let created = false;
    try {
      const { sha256, md5 } = await counter.digests();
      created = await this.link(this.objectKey(sha256), dataKey, counter.bytesSeen);
      return { key: sha256, size: counter.bytesSeen, sha256, md5, created };
    } finally {
      if (!created) {
        // Identical bytes were stored already (or linking failed): these are nobody's.
        await this.deleteRaw(dataKey).catch(() => undefined);
      }
    }
  }

  /**
   * A multipart upload of `head` then `rest` to `objectKey`, `partsInFlight` parts at a time. Each part is
   * gathered in a buffer of the store's pool and goes back to it once sent, rather than concatenated
   * afresh (as @aws-sdk/lib-storage does): a new part-sized buffer per part was garbage at the rate of
   * the upload, and in the hub's heap the collections it triggers cost more than the copy.
   */
  private async uploadParts(
    objectKey: string,
    head: Buffer[],
    rest: AsyncIterator<Buffer>,
    piping: Promise<void>,
  ): Promise<void> {
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey }),
    );
    const parts: CompletedPart[] = [];
    const sending = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    const send = (buffer: Buffer, length: number): void => {
      const partNumber = parts.length + 1;
      parts.push({ PartNumber: partNumber });
      const task = this.client
        .send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: objectKey,
            UploadId,
            PartNumber: partNumber,
            Body: buffer.subarray(0, length),
            ContentLength: length,
          }),
        )
        .then(
          (sent) => {
            parts[partNumber - 1] = { PartNumber: partNumber, ETag: sent.ETag };
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => {
          sending.delete(task);
          this.partBuffers.give(buffer);
        });
      sending.add(task);
    };
    try {
      let buffer = this.partBuffers.take();
      let filled = 0;
      const take = async (chunk: Buffer): Promise<void> => {
        for (let from = 0; from < chunk.length;) {
          const length = Math.min(chunk.length - from, this.partSize - filled);
          chunk.copy(buffer, filled, from, from + length);
          filled += length;
          from += length;
          if (filled === this.partSize) {
            while (sending.size >= this.partsInFlight) {
              await Promise.race(sending);
            }
            if (failure) {
              throw failure.error;
            }
            send(buffer, filled);
            buffer = this.partBuffers.take();
            filled = 0;
          }
        }
      };
      for (const chunk of head) {
        await take(chunk);
      }
      for (let next = await rest.next(); !next.done; next = await rest.next()) {
        await take(next.value);
      }
      if (filled > 0 || parts.length === 0) {
        send(buffer, filled);
      } else {
        this.partBuffers.give(buffer);
      }
      await piping;
      while (sending.size > 0) {
        await Promise.race(sending);
      }
      if (failure) {
        throw failure.error;
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: objectKey,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      await Promise.allSettled(sending);
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }

  /**
   * Creates the content address `address` as a pointer to `dataKey`, unless the address exists: true
   * when this call created it.
   */
  private async link(address: string, dataKey: string, size: number): Promise<boolean> {
    // Also what keeps sequential duplicates folded on a server that ignores If-None-Match.
    if ((await this.locate(address)) !== undefined) {
      return false;
    }
    for (let attempt = 1; ; attempt++) {
      const conditional = this.conditionalPuts;
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: address,
            Body: new Uint8Array(0),
            ContentLength: 0,
            Metadata: { [POINTER_DATA]: dataKey.slice(this.prefix.length), [POINTER_SIZE]: String(size) },
            ...(conditional ? { IfNoneMatch: '*' } : {}),
          }),
        );
        this.locations.set(address, { objectKey: dataKey, size });
        return true;
      } catch (error) {
        if (conditional && isAlreadyThere(error)) {
          return false;
        }
        if (conditional && isUnsupportedCondition(error)) {
          this.conditionalPuts = false;
          continue;
        }
        // Another conditional PUT of the same address was under way: whoever won, look again.
        if (conditional && isConditionalConflict(error) && attempt < 3) {
          if ((await this.locate(address)) !== undefined) {
            return false;
          }
          continue;
        }
        throw error;
      }
    }
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    if (!BLOB_KEY_PATTERN.test(key)) {
      return undefined;
    }
    // Always asked of the store: callers use it to learn whether a blob still exists.
    const location = await this.locate(this.objectKey(key));
    return location === undefined ? undefined : { size: location.size };
  }

  read(key: string, range?: ByteRange): Readable {
    if (!BLOB_KEY_PATTERN.test(key)) {
      throw new Error(`Not a blob key: ${key}`);
    }
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    const abort = new AbortController();
    // A reader that goes away (a client hanging up) ends the request to the store as well.
    out.once('close', () => abort.abort());
    this.fetch(key, range, abort.signal)
      .then((body) => {
        if (body === undefined) {
          throw Object.assign(new Error(`No blob ${key}`), { code: 'ENOENT' });
        }
        return pipeline(body, out);
      })
      .catch((error: unknown) => {
        if (!out.destroyed) {
          out.destroy(error as Error);
        }
      });
    return out;
  }

  async open(key: string, range?: ByteRange): Promise<Readable | undefined> {
    if (!BLOB_KEY_PATTERN.test(key)) {
      return undefined;
    }
    // The response body itself, without a stream in between: it is the socket's own backpressure that
    // paces the store, and destroying it (a client hanging up) ends the request to the store.
    return this.fetch(key, range);
  }

  /**
   * Deletes the address first and the data it pointed to second: a crash in between leaves data that
   * nothing references (the leftover sweep's to remove), never an address without bytes.
   */
  async delete(key: string): Promise<void> {
    if (!BLOB_KEY_PATTERN.test(key)) {
      return;
    }
    const address = this.objectKey(key);
    const location = await this.locate(address);
    this.locations.delete(address);
    await this.deleteRaw(address);
    if (location !== undefined && location.objectKey !== address) {
      await this.deleteRaw(location.objectKey);
    }
  }

  async *keys(): AsyncIterable<string> {
    const listPrefix = `${this.prefix}sha256/`;
    for await (const object of this.list(listPrefix)) {
      const key = object.Key?.slice(listPrefix.length);
      if (key && BLOB_KEY_PATTERN.test(key)) {
        yield key;
      }
    }
  }

  /** Presigned for the key that holds the bytes, so the client's GET is the only request. */
  async directUrl(key: string, options: DirectUrlOptions): Promise<string> {
    if (!BLOB_KEY_PATTERN.test(key)) {
      throw new Error(`Not a blob key: ${key}`);
    }
    const address = this.objectKey(key);
    const location = this.locations.get(address) ?? (await this.locate(address));
    return getSignedUrl(
      this.publicClient,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: location?.objectKey ?? address,
        ResponseContentDisposition: options.filename
          ? `attachment; filename="${options.filename}"`
          : 'attachment',
        ...(options.contentType ? { ResponseContentType: options.contentType } : {}),
      }),
      { expiresIn: options.expiresInSeconds },
    );
  }

  /**
   * Removes what interrupted work left behind before `olderThan`: data objects no address points to
   * (an upload that died between its last byte and its pointer, a delete that died between the two),
   * temporary objects of the former layout (`tmp/`), and multipart uploads never completed or aborted.
   * Data younger than `olderThan` is left alone, since it may belong to an upload about to link it.
   */
  async sweepLeftovers(olderThan: Date): Promise<LeftoverSweep> {
    const candidates = new Set<string>();
    for await (const object of this.list(`${this.prefix}data/`)) {
      if (object.Key && object.LastModified && object.LastModified < olderThan) {
        candidates.add(object.Key);
      }
    }
    if (candidates.size > 0) {
      // Only pointers are empty (and the empty blob, which is its own bytes): the rest need no HEAD.
      const pointers: string[] = [];
      for await (const object of this.list(`${this.prefix}sha256/`)) {
        if (object.Key && object.Size === 0) {
          pointers.push(object.Key);
        }
      }
      let next = 0;
      const resolveSome = async (): Promise<void> => {
        while (next < pointers.length && candidates.size > 0) {
          const location = await this.locate(pointers[next++]!);
          if (location) {
            candidates.delete(location.objectKey);
          }
        }
      };
      await Promise.all(Array.from({ length: SWEEP_HEADS_IN_FLIGHT }, resolveSome));
    }
    let removed = 0;
    for (const key of candidates) {
      await this.deleteRaw(key);
      removed++;
    }
    for await (const object of this.list(`${this.prefix}tmp/`)) {
      if (object.Key && object.LastModified && object.LastModified < olderThan) {
        await this.deleteRaw(object.Key);
        removed++;
      }
    }
    let abortedUploads = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: this.prefix,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key && upload.UploadId && upload.Initiated && upload.Initiated < olderThan) {
          await this.client
            .send(
              new AbortMultipartUploadCommand({
                Bucket: this.bucket,
                Key: upload.Key,
                UploadId: upload.UploadId,
              }),
            )
            .catch((error: unknown) => {
              if (!isNotFound(error)) {
                throw error;
              }
            });
          abortedUploads++;
        }
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return { removed, abortedUploads };
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  /** The bucket is created on first use when it does not exist (and the credentials may create it). */
  ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
        await this.client
          .send(new CreateBucketCommand({ Bucket: this.bucket }))
          .catch((createError: unknown) => {
            // Another process created it in the meantime.
            const name = (createError as { name?: string }).name;
            if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') {
              throw createError;
            }
          });
      }
    })();
    this.bucketReady.catch(() => {
      this.bucketReady = undefined;
    });
    return this.bucketReady;
  }

  /** Stops the connection pools, for processes that end while the store is still referenced. */
  close(): void {
    this.client.destroy();
    if (this.publicClient !== this.client) {
      this.publicClient.destroy();
    }
  }

  private objectKey(key: string): string {
    return `${this.prefix}sha256/${key}`;
  }

  /**
   * The bytes of blob `key` (or a range of them), in one GET when its location is known. Otherwise the
   * address itself is fetched: a whole object answers with its bytes at once, a pointer with its
   * metadata (and no bytes), after which its data is fetched and the location remembered.
   */
  private async fetch(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable | undefined> {
    const address = this.objectKey(key);
    const known = this.locations.get(address);
    if (known !== undefined) {
      const response = await this.get(known.objectKey, range, signal);
      if (response !== undefined) {
        return bodyOf(response);
      }
      // Deleted since it was remembered, perhaps stored again since: ask afresh.
      this.locations.delete(address);
    }
    let response: GetObjectCommandOutput | undefined;
    try {
      response = await this.get(address, range, signal);
    } catch (error) {
      // A pointer holds no bytes, so a range of it may be refused: resolve it, then fetch the data.
      if (range === undefined || !isInvalidRange(error)) {
        throw error;
      }
      const location = await this.locate(address);
      if (location === undefined || location.objectKey === address) {
        throw error;
      }
      return bodyOf(await this.get(location.objectKey, range, signal));
    }
    if (response === undefined) {
      return undefined;
    }
    const pointer = pointerOf(this.prefix, response.Metadata, response.ContentLength);
    if (pointer === undefined) {
      return bodyOf(response);
    }
    // Empty: read to its end, so the connection goes back to the pool.
    (response.Body as Readable).resume();
    this.locations.set(address, pointer);
    return bodyOf(await this.get(pointer.objectKey, range, signal));
  }

  /** A GET of `objectKey`, or undefined when there is no such object. */
  private async get(
    objectKey: string,
    range: ByteRange | undefined,
    signal: AbortSignal | undefined,
  ): Promise<GetObjectCommandOutput | undefined> {
    try {
      return await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
        signal ? { abortSignal: signal } : {},
      );
    } catch (error) {
      if (isNotFound(error)) {
        return undefined;
      }
      throw error;
    }
  }

  /** Where the bytes at `address` are (a HEAD, remembered for pointers); undefined when it is absent. */
  private async locate(address: string): Promise<Location | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: address }));
      const pointer = pointerOf(this.prefix, head.Metadata, head.ContentLength);
      if (pointer === undefined) {
        return { objectKey: address, size: head.ContentLength ?? 0 };
      }
      this.locations.set(address, pointer);
      return pointer;
    } catch (error) {
      if (isNotFound(error)) {
        this.locations.delete(address);
        return undefined;
      }
      throw error;
    }
  }

  private async *list(prefix: string): AsyncIterable<_Object> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: LIST_PAGE,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async deleteRaw(objectKey: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
  }
}

/** A GET's bytes, relayed with room for the garbage collector when there are many of them. */
function bodyOf(response: GetObjectCommandOutput): Readable;
function bodyOf(response: GetObjectCommandOutput | undefined): Readable | undefined;
function bodyOf(response: GetObjectCommandOutput | undefined): Readable | undefined {
  return response === undefined
    ? undefined
    : withHeapGrowth(response.Body as Readable, response.ContentLength);
}

/** The location an empty object's metadata names, when it is a pointer. */
function pointerOf(
  prefix: string,
  metadata: Record<string, string> | undefined,
  contentLength: number | undefined,
): Location | undefined {
  const data = metadata?.[POINTER_DATA];
  const size = Number(metadata?.[POINTER_SIZE]);
  if (!data || !(contentLength === 0 || contentLength === undefined) || !Number.isSafeInteger(size)) {
    return undefined;
  }
  return { objectKey: `${prefix}${data}`, size };
}

/** Part-sized buffers handed out and taken back, keeping up to `spares` for the next upload. */
class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    private readonly size: number,
    private readonly spares: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.spares) {
      this.free.push(buffer);
    }
  }
}
