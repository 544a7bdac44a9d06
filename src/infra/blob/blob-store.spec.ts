import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  S3_START_TIMEOUT_MS,
  emptyS3Prefix,
  ensureTestS3,
  listS3Prefix,
  testS3Prefix,
  testS3Store,
} from '../../../test/support/s3.js';
import { BlobTooLargeError, type BlobStore } from './blob-store.js';
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
        leftovers: async () => (await listS3Prefix(prefix)).filter((key) => key.startsWith('tmp/')),
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

  it('puts content of up to one part straight to its content address; larger content via a copy', async () => {
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
      const large = randomBytes(PART + 1);
      const streamed = await store.put(Readable.from([large]));
      expect(streamed.sha256).toBe(createHash('sha256').update(large).digest('hex'));
      expect(sent).toContain('CopyObjectCommand');
      expect(Buffer.compare(await buffer(store.read(streamed.key)), large)).toBe(0);
      expect((await listS3Prefix(prefix)).sort()).toEqual(
        [`sha256/${stored.key}`, `sha256/${streamed.key}`].sort(),
      );
    } finally {
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

  it('moves objects above the single-copy limit into place with a multipart copy', async () => {
    const prefix = testS3Prefix();
    const store: S3BlobStore = testS3Store(prefix, { singleCopyLimitBytes: 5 * 1024 * 1024 });
    try {
      const bytes = randomBytes(11 * 1024 * 1024 + 5);
      const stored = await store.put(Readable.from([bytes]));
      expect(stored.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(Buffer.compare(await buffer(store.read(stored.key)), bytes)).toBe(0);
      expect(await listS3Prefix(prefix)).toEqual([`sha256/${stored.key}`]);
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
