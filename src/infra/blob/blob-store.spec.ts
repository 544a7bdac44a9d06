import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  S3_START_TIMEOUT_MS,
  emptyS3Prefix,
  ensureTestS3,
  listS3Prefix,
  rawS3Client,
  TEST_S3,
  testS3Prefix,
  testS3Store,
} from '../../../test/support/s3.js';
import { migrateBlobs } from './blob-migration.js';
import { BlobTooLargeError, type BlobStore } from './blob-store.js';
import { LARGE_STREAM_BYTES, largeStreamsRelaying } from './heap-growth.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/** One store under test, with a way to see what it left outside its finished blobs. */
interface StoreUnderTest {
  readonly store: BlobStore;
  /** Temporary objects of unfinished or refused uploads. */
  leftovers(): Promise<string[]>;
  dispose(): Promise<void>;
}

const implementations: Record<string, { setUp(): Promise<void>; create(): Promise<StoreUnderTest> }> = {
  local: {
    setUp: () => Promise.resolve(),
    async create() {
      const root = await mkdtemp(join(tmpdir(), 'blob-spec-'));
      return {
        store: new LocalBlobStore(root),
        leftovers: () => readdir(join(root, 'tmp')).catch(() => []),
        dispose: () => rm(root, { recursive: true, force: true }),
      };
    },
  },
  s3: {
    setUp: ensureTestS3,
    create() {
      const prefix = testS3Prefix();
      const store = testS3Store(prefix);
      return Promise.resolve({
        store,
        leftovers: async () =>
          (await listS3Prefix(prefix)).filter((key) => key.startsWith('tmp/') || key.startsWith('data/')),
        async dispose() {
          await emptyS3Prefix(prefix);
          store.close();
        },
      });
    },
  },
};

describe.each(Object.keys(implementations))('blob store: %s', (kind) => {
  const implementation = implementations[kind]!;
  let subject: StoreUnderTest;
  let store: BlobStore;

  beforeAll(() => implementation.setUp(), S3_START_TIMEOUT_MS);
  beforeEach(async () => {
    subject = await implementation.create();
    store = subject.store;
  });
  afterEach(async () => {
    await subject.dispose();
  });

  it('stores bytes under their sha-256 and reports size and both digests', async () => {
    const bytes = randomBytes(300_000);
    const stored = await store.put(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
    expect(stored.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(stored.md5).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(stored.key).toBe(stored.sha256);
    expect(stored.size).toBe(bytes.length);
    expect(stored.created).toBe(true);
    expect(await store.stat(stored.key)).toEqual({ size: bytes.length });
    expect(Buffer.compare(await buffer(store.read(stored.key)), bytes)).toBe(0);
  });

  it('hashes large streams correctly on the digest worker, whatever the chunking', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 123);
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += 70_001) {
      chunks.push(bytes.subarray(offset, offset + 70_001));
    }
    const [first, second] = await Promise.all([
      store.put(Readable.from(chunks)),
      store.put(Readable.from([bytes.subarray(0, 1024 * 1024)])),
    ]);
    expect(first.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(first.md5).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(first.size).toBe(bytes.length);
    expect(second.md5).toBe(
      createHash('md5')
        .update(bytes.subarray(0, 1024 * 1024))
        .digest('hex'),
    );
  });

  it('gives up cleanly when the source fails half-way', async () => {
    const source = new Readable({ read() {} });
    source.push(randomBytes(3 * 1024 * 1024));
    setImmediate(() => source.destroy(new Error('connection reset')));
    await expect(store.put(source)).rejects.toThrow('connection reset');
    expect(await subject.leftovers()).toEqual([]);
    const after = await store.put(Readable.from([Buffer.from('still working')]));
    expect(after.md5).toBe(createHash('md5').update('still working').digest('hex'));
  });

  it('folds identical content into one blob', async () => {
    const first = await store.put(Readable.from([Buffer.from('same bytes')]));
    const second = await store.put(Readable.from([Buffer.from('same bytes')]));
    expect(second.key).toBe(first.key);
    expect(second.created).toBe(false);
    expect(await subject.leftovers()).toEqual([]);
  });

  it('reads inclusive byte ranges', async () => {
    const stored = await store.put(Readable.from([Buffer.from('0123456789')]));
    expect((await buffer(store.read(stored.key, { start: 2, end: 5 }))).toString()).toBe('2345');
  });

  it('opens a blob or a range of it once the store has answered, and a missing one as undefined', async () => {
    const stored = await store.put(Readable.from([Buffer.from('0123456789')]));
    expect((await buffer((await store.open(stored.key))!)).toString()).toBe('0123456789');
    expect((await buffer((await store.open(stored.key, { start: 7, end: 9 }))!)).toString()).toBe('789');
    expect(await store.open(createHash('sha256').update('never stored').digest('hex'))).toBeUndefined();
    expect(await store.open('../secret')).toBeUndefined();
  });

  it('refuses content over the limit and leaves nothing behind', async () => {
    await expect(store.put(Readable.from([randomBytes(2048)]), { maxBytes: 1024 })).rejects.toBeInstanceOf(
      BlobTooLargeError,
    );
    expect(await subject.leftovers()).toEqual([]);
  });

  it('never resolves keys that are not sha-256 hex', async () => {
    expect(await store.stat('../../etc/passwd')).toBeUndefined();
    expect(() => store.read('../secret')).toThrow(/Not a blob key/);
    await expect(store.delete('../x')).resolves.toBeUndefined();
  });

  it('deletes blobs', async () => {
    const stored = await store.put(Readable.from([Buffer.from('gone soon')]));
    await store.delete(stored.key);
    expect(await store.stat(stored.key)).toBeUndefined();
  });

  it('lists every stored key, and answers a missing blob as absent', async () => {
    const a = await store.put(Readable.from([Buffer.from('first')]));
    const b = await store.put(Readable.from([Buffer.from('second')]));
    const keys: string[] = [];
    for await (const key of store.keys()) {
      keys.push(key);
    }
    expect(keys.sort()).toEqual([a.key, b.key].sort());
    const missing = createHash('sha256').update('never stored').digest('hex');
    expect(await store.stat(missing)).toBeUndefined();
    await expect(buffer(store.read(missing))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('relays large streams with room for the garbage collector, and gives it back when each ends', async () => {
    const MIB = 1024 * 1024;
    const bytes = randomBytes(LARGE_STREAM_BYTES + 4 * MIB);
    const before = largeStreamsRelaying();
    let midUpload = -1;
    function* source(): Generator<Buffer> {
      for (let offset = 0; offset < bytes.length; offset += MIB) {
        if (offset === LARGE_STREAM_BYTES + 2 * MIB) {
          midUpload = largeStreamsRelaying();
        }
        yield bytes.subarray(offset, offset + MIB);
      }
    }
    const stored = await store.put(Readable.from(source()));
    expect(midUpload).toBe(before + 1);
    expect(largeStreamsRelaying()).toBe(before);

    const download = (await store.open(stored.key))!;
    expect(largeStreamsRelaying()).toBe(before + 1);
    expect(Buffer.compare(await buffer(download), bytes)).toBe(0);
    expect(largeStreamsRelaying()).toBe(before);

    // A client hanging up half-way releases it too.
    const abandoned = (await store.open(stored.key))!;
    expect(largeStreamsRelaying()).toBe(before + 1);
    abandoned.destroy();
    await new Promise((resolve) => abandoned.once('close', resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(largeStreamsRelaying()).toBe(before);

    // Small reads, whole or ranged, leave V8's own heuristic alone.
    const small = await store.put(Readable.from([Buffer.from('small')]));
    await buffer((await store.open(small.key))!);
    const ranged = (await store.open(stored.key, { start: 0, end: MIB }))!;
    expect(largeStreamsRelaying()).toBe(before);
    await buffer(ranged);
  });

  it('stores empty content', async () => {
    const stored = await store.put(Readable.from([]));
    expect(stored.size).toBe(0);
    expect(await store.stat(stored.key)).toEqual({ size: 0 });
    expect((await buffer(store.read(stored.key))).length).toBe(0);
  });
});

describe('blob store: s3 only', () => {
  beforeAll(() => ensureTestS3(), S3_START_TIMEOUT_MS);

  const PART = 5 * 1024 * 1024;

  const byKey = (a: { key: string }, b: { key: string }): number => a.key.localeCompare(b.key);

  /** Every object under `prefix` with its size (a pointer is empty). */
  async function listS3Objects(prefix: string): Promise<{ key: string; size: number }[]> {
    const client = rawS3Client();
    try {
      const page = await client.send(new ListObjectsV2Command({ Bucket: TEST_S3.bucket, Prefix: prefix }));
      return (page.Contents ?? []).map((object) => ({
        key: (object.Key ?? '').slice(prefix.length),
        size: object.Size ?? -1,
      }));
    } finally {
      client.destroy();
    }
  }

  /** The S3 commands `store` sends from now on, by name. */
  function recordCommands(store: S3BlobStore): string[] {
    const sent: string[] = [];
    const { client } = store as unknown as { client: S3Client };
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize' },
    );
    return sent;
  }

  it('puts content of up to one part straight to its content address; larger content once, never copied', async () => {
    const prefix = testS3Prefix();
    const store = testS3Store(prefix, { partSizeBytes: PART });
    const sent = recordCommands(store);
    try {
      const small = randomBytes(PART);
      const stored = await store.put(Readable.from([small.subarray(0, 1000), small.subarray(1000)]));
      expect(stored).toMatchObject({ size: PART, created: true });
      expect(stored.md5).toBe(createHash('md5').update(small).digest('hex'));
      expect(sent.filter((name) => name !== 'HeadBucketCommand')).toEqual([
        'HeadObjectCommand',
        'PutObjectCommand',
      ]);
      expect(Buffer.compare(await buffer(store.read(stored.key)), small)).toBe(0);
      expect((await store.put(Readable.from([small]))).created).toBe(false);

      sent.length = 0;
      const large = randomBytes(2 * PART + 7);
      const streamed = await store.put(Readable.from([large]));
      expect(streamed).toMatchObject({
        sha256: createHash('sha256').update(large).digest('hex'),
        md5: createHash('md5').update(large).digest('hex'),
        size: large.length,
        created: true,
      });
      // The bytes stay where they were uploaded; the address is one small PUT pointing there.
      expect(sent).not.toContain('CopyObjectCommand');
      expect(sent).not.toContain('UploadPartCopyCommand');
      expect(sent.filter((name) => name === 'PutObjectCommand')).toHaveLength(1);
      expect(sent.filter((name) => name === 'DeleteObjectCommand')).toHaveLength(0);
      const objects = await listS3Objects(prefix);
      const data = objects.filter((object) => object.key.startsWith('data/'));
      expect(data).toEqual([{ key: expect.stringMatching(/^data\/[0-9a-f-]{36}$/), size: large.length }]);
      expect(objects.filter((object) => !object.key.startsWith('data/')).sort(byKey)).toEqual(
        [
          { key: `sha256/${stored.key}`, size: PART },
          { key: `sha256/${streamed.key}`, size: 0 },
        ].sort(byKey),
      );

      // Read back, through the remembered location: one GET of the data.
      sent.length = 0;
      expect(Buffer.compare(await buffer(store.read(streamed.key)), large)).toBe(0);
      expect(sent).toEqual(['GetObjectCommand']);
      expect(await store.stat(streamed.key)).toEqual({ size: large.length });
      const keys: string[] = [];
      for await (const key of store.keys()) {
        keys.push(key);
      }
      expect(keys.sort()).toEqual([stored.key, streamed.key].sort());
    } finally {
      await emptyS3Prefix(prefix);
      store.close();
    }
  });

  it('reads, ranges, stats and presigns a pointer-addressed blob from a process that has not seen it', async () => {
    const prefix = testS3Prefix();
    const writer = testS3Store(prefix, { partSizeBytes: PART });
    const reader = testS3Store(prefix, { partSizeBytes: PART });
    const sent = recordCommands(reader);
    try {
      const large = randomBytes(PART + 4096);
      const { key } = await writer.put(Readable.from([large]));
      const [dataKey] = (await listS3Prefix(prefix)).filter((name) => name.startsWith('data/'));

      // Unknown location and a range: the address holds no bytes, so it is resolved first.
      const range = { start: PART - 10, end: PART + 9 };
      expect(
        Buffer.compare(await buffer(reader.read(key, range)), large.subarray(PART - 10, PART + 10)),
      ).toBe(0);
      sent.length = 0;
      const opened = await reader.open(key, { start: 5, end: 9 });
      expect(Buffer.compare(await buffer(opened!), large.subarray(5, 10))).toBe(0);
      expect(sent).toEqual(['GetObjectCommand']);

      // Unknown location, whole: the address's GET names the data, which the second GET returns.
      const fresh = testS3Store(prefix);
      try {
        expect(Buffer.compare(await buffer((await fresh.open(key))!), large)).toBe(0);
        expect(await fresh.stat(key)).toEqual({ size: large.length });
        const url = await fresh.directUrl(key, { expiresInSeconds: 60, filename: 'big.bin' });
        expect(new URL(url).pathname).toBe(`/${TEST_S3.bucket}/${prefix}${dataKey}`);
        const res = await fetch(url);
        expect(res.headers.get('content-disposition')).toBe('attachment; filename="big.bin"');
        expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), large)).toBe(0);
      } finally {
        fresh.close();
      }
    } finally {
      await emptyS3Prefix(prefix);
      writer.close();
      reader.close();
    }
  });

  it('stores identical large content once when several uploads of it finish at once', async () => {
    const prefix = testS3Prefix();
    const stores = [1, 2, 3].map(() => testS3Store(prefix, { partSizeBytes: PART }));
    try {
      const large = randomBytes(PART + 1);
      const results = await Promise.all(stores.map((store) => store.put(Readable.from([large]))));
      expect(new Set(results.map((result) => result.key)).size).toBe(1);
      expect(results.filter((result) => result.created)).toHaveLength(1);
      const names = await listS3Prefix(prefix);
      expect(names.filter((name) => name.startsWith('data/'))).toHaveLength(1);
      expect(names.filter((name) => name.startsWith('sha256/'))).toEqual([`sha256/${results[0]!.key}`]);
      for (const store of stores) {
        expect(Buffer.compare(await buffer(store.read(results[0]!.key)), large)).toBe(0);
      }
      // And later ones fold into it too.
      expect((await stores[0]!.put(Readable.from([large]))).created).toBe(false);
      expect((await listS3Prefix(prefix)).filter((name) => name.startsWith('data/'))).toHaveLength(1);
    } finally {
      await emptyS3Prefix(prefix);
      for (const store of stores) {
        store.close();
      }
    }
  });

  it('creates an address only when it is absent: the server honours If-None-Match on PUT', async () => {
    const prefix = testS3Prefix();
    const client = rawS3Client();
    try {
      const put = (body: string): Promise<unknown> =>
        client.send(
          new PutObjectCommand({
            Bucket: TEST_S3.bucket,
            Key: `${prefix}probe`,
            Body: body,
            IfNoneMatch: '*',
          }),
        );
      await put('first');
      await expect(put('second')).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    } finally {
      client.destroy();
      await emptyS3Prefix(prefix);
    }
  });

  it('deletes a pointer-addressed blob with its data, and readers that remembered it notice', async () => {
    const prefix = testS3Prefix();
    const a = testS3Store(prefix, { partSizeBytes: PART });
    const b = testS3Store(prefix, { partSizeBytes: PART });
    try {
      const large = randomBytes(PART + 100);
      const { key } = await a.put(Readable.from([large]));
      expect((await buffer((await b.open(key))!)).length).toBe(large.length);

      // Deleted and stored again by another process: the remembered data key is gone, the new one is read.
      await a.delete(key);
      expect(await listS3Prefix(prefix)).toEqual([]);
      await a.put(Readable.from([large]));
      expect(Buffer.compare(await buffer((await b.open(key))!), large)).toBe(0);
      expect(Buffer.compare(await buffer(b.read(key, { start: 1, end: 3 })), large.subarray(1, 4))).toBe(0);

      await a.delete(key);
      expect(await b.open(key)).toBeUndefined();
      await expect(buffer(b.read(key))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await b.stat(key)).toBeUndefined();
      expect(await listS3Prefix(prefix)).toEqual([]);
    } finally {
      await emptyS3Prefix(prefix);
      a.close();
      b.close();
    }
  });

  it('keeps serving whole objects stored at their address by earlier versions, whatever their size', async () => {
    const prefix = testS3Prefix();
    const store = testS3Store(prefix, { partSizeBytes: PART });
    const client = rawS3Client();
    const local = await mkdtemp(join(tmpdir(), 'blob-spec-migrate-'));
    try {
      const old = randomBytes(2 * PART);
      const key = createHash('sha256').update(old).digest('hex');
      await client.send(
        new PutObjectCommand({ Bucket: TEST_S3.bucket, Key: `${prefix}sha256/${key}`, Body: old }),
      );
      expect(await store.stat(key)).toEqual({ size: old.length });
      expect(Buffer.compare(await buffer(store.read(key)), old)).toBe(0);
      expect(
        Buffer.compare(await buffer((await store.open(key, { start: 3, end: 6 }))!), old.subarray(3, 7)),
      ).toBe(0);
      const url = await store.directUrl(key, { expiresInSeconds: 60 });
      expect(new URL(url).pathname).toBe(`/${TEST_S3.bucket}/${prefix}sha256/${key}`);
      expect((await store.put(Readable.from([old]))).created).toBe(false);
      expect(await listS3Prefix(prefix)).toEqual([`sha256/${key}`]);

      // Both kinds migrate, and back.
      const pointed = await store.put(Readable.from([randomBytes(PART + 3)]));
      const target = new LocalBlobStore(local);
      const result = await migrateBlobs(store, target);
      expect(result).toMatchObject({ seen: 2, copied: 2, failed: 0 });
      expect((await target.stat(key))?.size).toBe(old.length);
      expect((await target.stat(pointed.key))?.size).toBe(PART + 3);
      const back = testS3Store(testS3Prefix(), { partSizeBytes: PART });
      try {
        expect(await migrateBlobs(target, back)).toMatchObject({ copied: 2, failed: 0 });
        expect(Buffer.compare(await buffer(back.read(key)), old)).toBe(0);
      } finally {
        await back.delete(key);
        await back.delete(pointed.key);
        back.close();
      }

      await store.delete(key);
      expect(await store.stat(key)).toBeUndefined();
    } finally {
      client.destroy();
      await emptyS3Prefix(prefix);
      await rm(local, { recursive: true, force: true });
      store.close();
    }
  });

  it('sweeps old leftovers: unreferenced data, temporary objects, unfinished uploads; never a blob', async () => {
    const prefix = testS3Prefix();
    const store = testS3Store(prefix, { partSizeBytes: PART });
    const client = rawS3Client();
    try {
      const keptBytes = randomBytes(PART + 1);
      const kept = await store.put(Readable.from([keptBytes]));
      const small = await store.put(Readable.from([Buffer.from('small')]));
      const empty = await store.put(Readable.from([]));
      const orphan = `${prefix}data/00000000-0000-4000-8000-000000000000`;
      await client.send(new PutObjectCommand({ Bucket: TEST_S3.bucket, Key: orphan, Body: 'no address' }));
      await client.send(new PutObjectCommand({ Bucket: TEST_S3.bucket, Key: `${prefix}tmp/old`, Body: 'x' }));
      await client.send(
        new CreateMultipartUploadCommand({ Bucket: TEST_S3.bucket, Key: `${prefix}data/dead` }),
      );
      const before = await listS3Prefix(prefix);

      // Everything here is younger than a day: nothing goes.
      expect(await store.sweepLeftovers(new Date(Date.now() - 24 * 60 * 60 * 1000))).toEqual({
        removed: 0,
        abortedUploads: 0,
      });
      expect((await listS3Prefix(prefix)).sort()).toEqual(before.sort());

      expect(await store.sweepLeftovers(new Date(Date.now() + 60_000))).toEqual({
        removed: 2,
        abortedUploads: 1,
      });
      const after = await listS3Prefix(prefix);
      expect(after).not.toContain(orphan.slice(prefix.length));
      expect(after).not.toContain('tmp/old');
      expect(after.filter((name) => name.startsWith('data/'))).toHaveLength(1);
      expect(Buffer.compare(await buffer(store.read(kept.key)), keptBytes)).toBe(0);
      expect(await store.stat(kept.key)).toEqual({ size: PART + 1 });
      expect(await store.stat(small.key)).toEqual({ size: 5 });
      expect(await store.stat(empty.key)).toEqual({ size: 0 });
      const uploads = await client.send(
        new ListMultipartUploadsCommand({ Bucket: TEST_S3.bucket, Prefix: prefix }),
      );
      expect(uploads.Uploads ?? []).toEqual([]);
    } finally {
      client.destroy();
      await emptyS3Prefix(prefix);
      store.close();
    }
  });

  it('gives up a streamed upload cleanly when the source fails after the first part', async () => {
    const prefix = testS3Prefix();
    const store = testS3Store(prefix, { partSizeBytes: PART });
    try {
      const source = new Readable({ read() {} });
      source.push(randomBytes(PART + 1024 * 1024));
      setTimeout(() => source.destroy(new Error('connection reset')), 50);
      await expect(store.put(source)).rejects.toThrow('connection reset');
      expect(await listS3Prefix(prefix)).toEqual([]);
    } finally {
      await emptyS3Prefix(prefix);
      store.close();
    }
  });

  it('fails an upload with the reason when the store cannot be reached', async () => {
    const store = new S3BlobStore({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      bucket: 'unreachable',
      credentials: { accessKeyId: 'none', secretAccessKey: 'none-secret' },
      forcePathStyle: true,
    });
    try {
      await expect(store.put(Readable.from([randomBytes(1024)]))).rejects.toThrow(/ECONNREFUSED|connect/i);
      await expect(store.ping()).rejects.toThrow();
    } finally {
      store.close();
    }
  });

  it('hands out presigned URLs that fetch the bytes without credentials, until they expire', async () => {
    const prefix = testS3Prefix();
    const store = testS3Store(prefix);
    try {
      const stored = await store.put(Readable.from([Buffer.from('presigned bytes')]));
      const url = await store.directUrl(stored.key, {
        expiresInSeconds: 60,
        filename: 'p.txt',
        contentType: 'text/plain',
      });
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="p.txt"');
      expect(await res.text()).toBe('presigned bytes');
      const ranged = await fetch(url, { headers: { range: 'bytes=2-5' } });
      expect(ranged.status).toBe(206);
      expect(await ranged.text()).toBe('esig');
      const expiring = await store.directUrl(stored.key, { expiresInSeconds: 1 });
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect((await fetch(expiring)).status).toBe(403);
      const unsigned = new URL(url);
      unsigned.search = '';
      expect((await fetch(unsigned)).status).toBe(403);
    } finally {
      await emptyS3Prefix(prefix);
      store.close();
    }
  });
});

describe('blob store: local only', () => {
  it('hashes through the shared ring whatever the chunk sizes, wrapping it many times, jobs side by side', async () => {
    const root = await mkdtemp(join(tmpdir(), 'blob-spec-ring-'));
    try {
      const store = new LocalBlobStore(root);
      const bytes = randomBytes(37 * 1024 * 1024 + 11);
      // Odd sizes, one larger than the whole ring, so regions end everywhere and wrap at odd places.
      const sizes = [1, 65_537, 20 * 1024 * 1024 + 3, 3 * 1024 * 1024 + 1, 999_999];
      const chunks: Buffer[] = [];
      for (let offset = 0, i = 0; offset < bytes.length; i++) {
        const size = sizes[i % sizes.length]!;
        chunks.push(bytes.subarray(offset, offset + size));
        offset += size;
      }
      const others = [randomBytes(17 * 1024 * 1024), randomBytes(10)];
      const [stored, ...rest] = await Promise.all([
        store.put(Readable.from(chunks)),
        ...others.map((other) => store.put(Readable.from([other]))),
      ]);
      expect(stored.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(stored.md5).toBe(createHash('md5').update(bytes).digest('hex'));
      expect(rest.map((r) => r.md5)).toEqual(others.map((o) => createHash('md5').update(o).digest('hex')));
      // Rings go back to the pool and are reused: the next job's digests are still right.
      const again = randomBytes(2 * 1024 * 1024);
      expect((await store.put(Readable.from([again]))).sha256).toBe(
        createHash('sha256').update(again).digest('hex'),
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('sweeps temporary files of uploads that never finished, once they are old enough', async () => {
    const root = await mkdtemp(join(tmpdir(), 'blob-spec-sweep-'));
    try {
      const store = new LocalBlobStore(root);
      const stored = await store.put(Readable.from([Buffer.from('kept')]));
      await writeFile(join(root, 'tmp', 'dead.part'), 'half an upload');
      expect(await store.sweepLeftovers(new Date(Date.now() - 60_000))).toEqual({
        removed: 0,
        abortedUploads: 0,
      });
      expect(await store.sweepLeftovers(new Date(Date.now() + 60_000))).toEqual({
        removed: 1,
        abortedUploads: 0,
      });
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      expect(await store.stat(stored.key)).toEqual({ size: 4 });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
