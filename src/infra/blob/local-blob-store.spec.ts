import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { BlobTooLargeError } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';

describe(LocalBlobStore.name, () => {
  let root: string;
  let store: LocalBlobStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'blob-spec-'));
    store = new LocalBlobStore(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
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
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    const after = await store.put(Readable.from([Buffer.from('still working')]));
    expect(after.md5).toBe(createHash('md5').update('still working').digest('hex'));
  });

  it('folds identical content into one blob', async () => {
    const first = await store.put(Readable.from([Buffer.from('same bytes')]));
    const second = await store.put(Readable.from([Buffer.from('same bytes')]));
    expect(second.key).toBe(first.key);
    expect(second.created).toBe(false);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('reads inclusive byte ranges', async () => {
    const stored = await store.put(Readable.from([Buffer.from('0123456789')]));
    expect((await buffer(store.read(stored.key, { start: 2, end: 5 }))).toString()).toBe('2345');
  });

  it('refuses content over the limit and leaves nothing behind', async () => {
    await expect(store.put(Readable.from([randomBytes(2048)]), { maxBytes: 1024 })).rejects.toBeInstanceOf(
      BlobTooLargeError,
    );
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
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
});
