import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { promisify } from 'node:util';

import pg from 'pg';

import { TEST_ENV } from './env.js';
import { ROOT } from './process.js';
import { TEST_S3, testS3DataDir } from './s3.js';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const parsed = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: parsed.hostname, port: Number(parsed.port || defaultPort) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Fails the run at once, with one clear line, when a service the suite needs is not up. The S3 store is
 * the exception: the tests that need it start it (see support/s3.ts), and if it was not running before
 * this run, the teardown stops it again.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const s3WasRunning = await reachable(TEST_S3.endpoint, 80);
  const missing: string[] = [];
  if (!(await reachable(TEST_ENV.MONGO_URL, 27017))) {
    missing.push(`MongoDB/FerretDB at ${TEST_ENV.MONGO_URL}`);
  }
  if (!(await reachable(TEST_ENV.DATABASE_URL, 5432))) {
    missing.push(`PostgreSQL at ${TEST_ENV.DATABASE_URL}`);
  }
  if (!(await reachable(TEST_ENV.REDIS_URL, 6379))) {
    missing.push(`Redis at ${TEST_ENV.REDIS_URL}`);
  }
  if (missing.length > 0) {
    throw new Error(
      `Test services are not running: ${missing.join(', ')}. Run "npm test", which starts them.`,
    );
  }
  const url = new URL(TEST_ENV.DATABASE_URL);
  const database = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) {
      await admin.query(`CREATE DATABASE "${database}"`).catch((error: { code?: string }) => {
        // Another run may create it at the same moment.
        if (error.code !== '42P04') {
          throw error;
        }
      });
    }
  } finally {
    await admin.end();
  }
  return async () => {
    if (s3WasRunning) {
      return;
    }
    await promisify(execFile)('bash', ['scripts/seaweedfs.sh', 'stop'], {
      cwd: ROOT,
      env: { ...process.env, SEAWEEDFS_DATA_DIR: testS3DataDir() },
    });
    await rm(testS3DataDir(), { recursive: true, force: true });
  };
}
