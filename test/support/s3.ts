import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

import { S3BlobStore } from '../../src/infra/blob/s3-blob-store.js';
import { ROOT } from './process.js';

const run = promisify(execFile);

/**
 * The SeaweedFS the S3 tests use: started on first need by scripts/seaweedfs.sh (which builds it once
 * when the cached binary is missing) and stopped by the global teardown of the run that started it.
 * Its master, volume and filer listen 30, 20 and 10 ports below the S3 port, and gRPC 10000 above each.
 */
export const TEST_S3 = {
  endpoint: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:8393',
  region: 'us-east-1',
  bucket: 'runtime-hub-test',
  accessKeyId: 'runtime-hub-test',
  secretAccessKey: 'runtime-hub-test-secret',
} as const;

export function testS3Port(): number {
  return Number(new URL(TEST_S3.endpoint).port);
}

/** In memory where the machine offers it: the S3 tests write gigabytes that are deleted again at once. */
export function testS3DataDir(): string {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return join(base, `runtime-hub-test-seaweedfs-${testS3Port()}`);
}

/** How long a test file may wait for SeaweedFS: a build from scratch takes minutes of CPU. */
export const S3_START_TIMEOUT_MS = 15 * 60_000;

/** Starts the test SeaweedFS unless it already answers (a lock in the script serialises starters). */
export async function ensureTestS3(): Promise<void> {
  await run('bash', ['scripts/seaweedfs.sh', 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      QUIET: '1',
      SEAWEEDFS_S3_PORT: String(testS3Port()),
      SEAWEEDFS_DATA_DIR: testS3DataDir(),
      S3_ACCESS_KEY_ID: TEST_S3.accessKeyId,
      S3_SECRET_ACCESS_KEY: TEST_S3.secretAccessKey,
    },
    timeout: S3_START_TIMEOUT_MS,
  });
}

/** A fresh key prefix, so each test file sees only its own objects in the shared bucket. */
export function testS3Prefix(): string {
  return `t-${randomBytes(5).toString('hex')}/`;
}

/** The environment that points a hub at the test store, under its own prefix. */
export function s3Env(prefix = testS3Prefix()): Record<string, string> {
  return {
    BLOB_STORE: 's3',
    S3_ENDPOINT: TEST_S3.endpoint,
    S3_REGION: TEST_S3.region,
    S3_BUCKET: TEST_S3.bucket,
    S3_KEY_PREFIX: prefix,
    S3_ACCESS_KEY_ID: TEST_S3.accessKeyId,
    S3_SECRET_ACCESS_KEY: TEST_S3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  };
}

export function testS3Store(
  prefix = testS3Prefix(),
  extra: Partial<ConstructorParameters<typeof S3BlobStore>[0]> = {},
): S3BlobStore {
  return new S3BlobStore({
    endpoint: TEST_S3.endpoint,
    region: TEST_S3.region,
    bucket: TEST_S3.bucket,
    keyPrefix: prefix,
    credentials: { accessKeyId: TEST_S3.accessKeyId, secretAccessKey: TEST_S3.secretAccessKey },
    forcePathStyle: true,
    ...extra,
  });
}

export function rawS3Client(): S3Client {
  return new S3Client({
    endpoint: TEST_S3.endpoint,
    region: TEST_S3.region,
    credentials: { accessKeyId: TEST_S3.accessKeyId, secretAccessKey: TEST_S3.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Every object key under `prefix`, relative to it (temporary upload keys included). */
export async function listS3Prefix(prefix: string): Promise<string[]> {
  const client = rawS3Client();
  const keys: string[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: TEST_S3.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      keys.push(...(page.Contents ?? []).map((object) => (object.Key ?? '').slice(prefix.length)));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  return keys;
}

/** Removes what a test file left under its prefix. */
export async function emptyS3Prefix(prefix: string): Promise<void> {
  const keys = await listS3Prefix(prefix).catch(() => []);
  const client = rawS3Client();
  try {
    for (let i = 0; i < keys.length; i += 1000) {
      await client.send(
        new DeleteObjectsCommand({
          Bucket: TEST_S3.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((key) => ({ Key: `${prefix}${key}` })) },
        }),
      );
    }
  } finally {
    client.destroy();
  }
}

/** Longer than the filer takes to pass deleted objects' chunks on to the volume servers. */
const FILER_DELETION_LAG_MS = 3000;

/**
 * Asks the test SeaweedFS to compact its volumes now. It frees a deleted object's space only when it
 * vacuums a volume (on its own, every 15 minutes and only past 30 % garbage), and the benchmarks write
 * and delete gigabytes per run into memory (`/dev/shm`): without this, a few runs fill it and S3 calls
 * start failing with InternalError. The filer hands deletions to the volumes in the background, so the
 * vacuum waits for that first. Best effort: a store that cannot vacuum now is left as it is.
 */
export async function reclaimS3Space(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, FILER_DELETION_LAG_MS));
  const master = `http://127.0.0.1:${testS3Port() - 30}`;
  await fetch(`${master}/vol/vacuum?garbageThreshold=0.01`).catch(() => undefined);
}
