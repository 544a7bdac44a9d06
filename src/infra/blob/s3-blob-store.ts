import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

import {
  BLOB_KEY_PATTERN,
  type BlobStore,
  type ByteRange,
  type DirectUrlOptions,
  type PutOptions,
  type StoredBlob,
} from './blob-store.js';
import { HashingCounter } from './hashing-counter.js';

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
  /** Objects larger than this are moved into place with a multipart copy (S3 copies at most 5 GiB at once). */
  readonly singleCopyLimitBytes?: number;
  /** Content up to this size is held in memory and PUT straight to its content address (default: one part). */
  readonly singlePutLimitBytes?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_PARTS_IN_FLIGHT = 4;
const S3_SINGLE_COPY_LIMIT = 5 * 1024 * 1024 * 1024;
const COPY_PART_SIZE = 512 * 1024 * 1024;

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/**
 * Stores blobs in an S3-compatible bucket under `<prefix>sha256/<sha-256>`. Content of up to one part is
 * hashed in memory and PUT straight to its content address. Larger content is streamed in as a
 * multipart upload to a temporary key while both digests are computed on the way, so memory stays at a
 * few parts whatever the size; once the digest is known the object is copied to its content address
 * (server-side) and the temporary key removed. Either way readers never see a partial blob, and
 * identical content is stored once.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly publicClient: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly partsInFlight: number;
  private readonly singleCopyLimit: number;
  private readonly singlePutLimit: number;
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
    this.singleCopyLimit = options.singleCopyLimitBytes ?? S3_SINGLE_COPY_LIMIT;
    this.singlePutLimit = options.singlePutLimitBytes ?? this.partSize;
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
   * in one PUT: atomic, so a crash leaves nothing half-written there, and no temporary key or copy.
   */
  private async putWhole(bytes: Buffer, counter: HashingCounter): Promise<StoredBlob> {
    const { sha256, md5 } = await counter.digests();
    const target = this.objectKey(sha256);
    const stored = { key: sha256, size: bytes.length, sha256, md5 };
    if ((await this.head(target)) !== undefined) {
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
   * Larger content is streamed as a multipart upload to a temporary key while it is hashed (memory stays
   * at a few parts whatever the size), then copied server-side to its content address.
   */
  private async putStreamed(
    head: Buffer[],
    rest: AsyncIterator<Buffer>,
    piping: Promise<void>,
    counter: HashingCounter,
  ): Promise<StoredBlob> {
    const tmpKey = `${this.prefix}tmp/${randomUUID()}`;
    const body = Readable.from(
      (async function* () {
        yield* head;
        for (let next = await rest.next(); !next.done; next = await rest.next()) {
          yield next.value;
        }
      })(),
    );
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: tmpKey, Body: body },
      partSize: this.partSize,
      queueSize: this.partsInFlight,
      leavePartsOnError: false,
    });
    try {
      await Promise.all([piping, upload.done()]);
    } catch (error) {
      counter.discard();
      if (!counter.destroyed) {
        counter.destroy();
      }
      body.destroy();
      await upload.abort().catch(() => undefined);
      await this.deleteRaw(tmpKey).catch(() => undefined);
      throw error;
    }
    try {
      const { sha256, md5 } = await counter.digests();
      const target = this.objectKey(sha256);
      const existing = await this.head(target);
      let created = false;
      if (existing === undefined) {
        await this.copy(tmpKey, target, counter.bytesSeen);
        created = true;
      }
      return { key: sha256, size: counter.bytesSeen, sha256, md5, created };
    } finally {
      await this.deleteRaw(tmpKey);
    }
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    if (!BLOB_KEY_PATTERN.test(key)) {
      return undefined;
    }
    const size = await this.head(this.objectKey(key));
    return size === undefined ? undefined : { size };
  }

  read(key: string, range?: ByteRange): Readable {
    if (!BLOB_KEY_PATTERN.test(key)) {
      throw new Error(`Not a blob key: ${key}`);
    }
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    const abort = new AbortController();
    // A reader that goes away (a client hanging up) ends the request to the store as well.
    out.once('close', () => abort.abort());
    this.client
      .send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
        { abortSignal: abort.signal },
      )
      .then((response) => pipeline(response.Body as Readable, out))
      .catch((error: unknown) => {
        if (!out.destroyed) {
          out.destroy(
            isNotFound(error)
              ? Object.assign(new Error(`No blob ${key}`), { code: 'ENOENT' })
              : (error as Error),
          );
        }
      });
    return out;
  }

  async open(key: string, range?: ByteRange): Promise<Readable | undefined> {
    if (!BLOB_KEY_PATTERN.test(key)) {
      return undefined;
    }
    try {
      // The response body itself, without a stream in between: it is the socket's own backpressure
      // that paces the store, and destroying it (a client hanging up) ends the request to the store.
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return response.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) {
        return undefined;
      }
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    if (BLOB_KEY_PATTERN.test(key)) {
      await this.deleteRaw(this.objectKey(key));
    }
  }

  async *keys(): AsyncIterable<string> {
    const listPrefix = `${this.prefix}sha256/`;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: listPrefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(listPrefix.length);
        if (key && BLOB_KEY_PATTERN.test(key)) {
          yield key;
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async directUrl(key: string, options: DirectUrlOptions): Promise<string> {
    if (!BLOB_KEY_PATTERN.test(key)) {
      throw new Error(`Not a blob key: ${key}`);
    }
    return getSignedUrl(
      this.publicClient,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        ResponseContentDisposition: options.filename
          ? `attachment; filename="${options.filename}"`
          : 'attachment',
        ...(options.contentType ? { ResponseContentType: options.contentType } : {}),
      }),
      { expiresIn: options.expiresInSeconds },
    );
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

  private async head(objectKey: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) {
        return undefined;
      }
      throw error;
    }
  }

  private async deleteRaw(objectKey: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
  }

  private async copy(from: string, to: string, size: number): Promise<void> {
    const copySource = `${this.bucket}/${encodeURIComponent(from).replace(/%2F/g, '/')}`;
    if (size <= this.singleCopyLimit) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: copySource }));
      return;
    }
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to }),
    );
    try {
      const parts: CompletedPart[] = [];
      const partSize = Math.max(Math.min(COPY_PART_SIZE, this.singleCopyLimit), Math.ceil(size / 10_000));
      for (let start = 0, part = 1; start < size; start += partSize, part++) {
        const end = Math.min(size, start + partSize) - 1;
        const { CopyPartResult } = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: to,
            UploadId,
            PartNumber: part,
            CopySource: copySource,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ PartNumber: part, ETag: CopyPartResult?.ETag });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: to,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }
}
