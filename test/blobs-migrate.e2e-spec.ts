import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LocalBlobStore } from '../src/infra/blob/local-blob-store.js';
import type { S3BlobStore } from '../src/infra/blob/s3-blob-store.js';
import { TEST_ENV } from './support/env.js';
import { collect, exited, spawnHub } from './support/process.js';
import {
  S3_START_TIMEOUT_MS,
  emptyS3Prefix,
  ensureTestS3,
  s3Env,
  testS3Prefix,
  testS3Store,
} from './support/s3.js';

describe('runtime-hub blobs migrate', () => {
  const prefix = testS3Prefix();
  let localDir: string;
  let backDir: string;
  let local: LocalBlobStore;
  let s3: S3BlobStore;
  // The first is larger than one part, so S3 holds it as a pointer to its data.
  const contents = [randomBytes(9 * 1024 * 1024 + 1), randomBytes(1000), Buffer.from('small blob')];
  const keys = contents.map((bytes) => createHash('sha256').update(bytes).digest('hex'));

  beforeAll(async () => {
    await ensureTestS3();
    localDir = await mkdtemp(join(tmpdir(), 'rh-migrate-'));
    backDir = await mkdtemp(join(tmpdir(), 'rh-migrate-back-'));
    local = new LocalBlobStore(localDir);
    s3 = testS3Store(prefix);
    for (const bytes of contents) {
      await local.put(Readable.from([bytes]));
    }
  }, S3_START_TIMEOUT_MS);
  afterAll(async () => {
    s3?.close();
    await emptyS3Prefix(prefix);
    await rm(localDir, { recursive: true, force: true });
    await rm(backDir, { recursive: true, force: true });
  });

  async function migrate(to: 's3' | 'local', blobDir: string): Promise<{ code: number | null; out: string }> {
    const child = spawnHub('src/cli.ts', ['blobs', 'migrate', '--to', to], {
      ...TEST_ENV,
      ...s3Env(prefix),
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      BLOB_STORE: to === 's3' ? 'local' : 's3',
      BLOB_DIR: blobDir,
    });
    const output = collect(child);
    const { code } = await exited(child);
    return { code, out: output.stdout() + output.stderr() };
  }

  async function s3Keys(): Promise<string[]> {
    const found: string[] = [];
    for await (const key of s3.keys()) {
      found.push(key);
    }
    return found.sort();
  }

  it('copies every blob to S3, refuses one whose bytes do not match its address, and resumes', async () => {
    // An earlier, interrupted run already copied the first blob.
    await s3.put(Readable.from([contents[0]!]));
    // A damaged file: its name says one sha-256, its bytes have another.
    const damagedKey = createHash('sha256').update('what it should have been').digest('hex');
    const damagedPath = join(localDir, 'sha256', damagedKey.slice(0, 2), damagedKey.slice(2, 4));
    await rm(damagedPath, { recursive: true, force: true });
    await local.put(Readable.from([Buffer.from('what it should have been')]));
    await writeFile(join(damagedPath, damagedKey), 'what it is now');

    const first = await migrate('s3', localDir);
    expect(first.code, first.out).toBe(1);
    expect(first.out).toContain('done: 4 blobs seen: 2 copied');
    expect(first.out).toContain('1 already there, 1 failed');
    expect(first.out).toContain(`failed ${damagedKey}: the bytes read`);
    expect(await s3Keys()).toEqual([...keys].sort());
    for (const [index, key] of keys.entries()) {
      expect(Buffer.compare(await buffer(s3.read(key)), contents[index]!)).toBe(0);
    }

    await rm(join(damagedPath, damagedKey));
    const again = await migrate('s3', localDir);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain('done: 3 blobs seen: 0 copied (0 B), 3 already there, 0 failed');
    expect(again.out).toContain('set BLOB_STORE=s3');
  }, 120_000);

  it('copies them back into an empty local directory', async () => {
    const back = await migrate('local', backDir);
    expect(back.code, back.out).toBe(0);
    expect(back.out).toContain('done: 3 blobs seen: 3 copied');
    const restored = new LocalBlobStore(backDir);
    for (const [index, key] of keys.entries()) {
      expect(Buffer.compare(await buffer(restored.read(key)), contents[index]!)).toBe(0);
    }
    expect(await readdir(join(backDir, 'tmp'))).toEqual([]);
  }, 120_000);
});
