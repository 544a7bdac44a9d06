import { InvalidArgumentError, type Command } from 'commander';

import type { AppConfig } from '../config/app-config.js';
import type { BlobStoreKind } from '../infra/blob/blob-store.js';
import { migrateBlobs, type MigrationProgress } from '../infra/blob/blob-migration.js';
import { createBlobStore } from '../infra/blob/blob.module.js';
import { S3BlobStore } from '../infra/blob/s3-blob-store.js';
import { formatBytes } from './progress.js';

const REPORT_EVERY_MS = 2000;

function storeKind(value: string): BlobStoreKind {
  if (value !== 'local' && value !== 's3') {
    throw new InvalidArgumentError('give local or s3');
  }
  return value;
}

function describe(progress: MigrationProgress): string {
  return `${progress.seen} blobs seen: ${progress.copied} copied (${formatBytes(progress.bytesCopied)}), ${progress.alreadyThere} already there, ${progress.failed} failed`;
}

/** `runtime-hub blobs …`: moving blob bytes between the local directory and the S3 store. */
export function registerBlobCommands(
  program: Command,
  config: () => AppConfig,
  out: (line: string) => void,
): void {
  const blobs = program.command('blobs').description('manage the blob store');
  blobs
    .command('migrate')
    .description(
      'copy every blob from the other store into the one named by --to, verifying each sha-256 and size; ' +
        'safe to interrupt and run again (blobs already copied are skipped). Then set BLOB_STORE to it.',
    )
    .requiredOption(
      '--to <store>',
      'the store to copy into: s3 (from BLOB_DIR) or local (from S3)',
      storeKind,
    )
    .option(
      '--concurrency <n>',
      'blobs copied at once',
      (value) => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1 || n > 64) {
          throw new InvalidArgumentError('give a whole number from 1 to 64');
        }
        return n;
      },
      4,
    )
    .action(async (options: { to: BlobStoreKind; concurrency: number }) => {
      const loaded = config();
      const from: BlobStoreKind = options.to === 's3' ? 'local' : 's3';
      const source = createBlobStore(loaded, from);
      const target = createBlobStore(loaded, options.to);
      const where = (kind: BlobStoreKind): string =>
        kind === 'local'
          ? `local directory ${loaded.blobs.dir}`
          : `S3 bucket ${loaded.blobs.s3.bucket} at ${loaded.blobs.s3.endpoint}${loaded.blobs.s3.keyPrefix ? ` (prefix ${loaded.blobs.s3.keyPrefix})` : ''}`;
      out(`copying blobs from the ${where(from)} to the ${where(options.to)}`);
      let lastReport = Date.now();
      try {
        await target.ping().catch(async (error: unknown) => {
          if (target instanceof S3BlobStore) {
            await target.ensureBucket();
            return;
          }
          throw error;
        });
        const result = await migrateBlobs(source, target, {
          concurrency: options.concurrency,
          onProgress: (progress) => {
            if (Date.now() - lastReport >= REPORT_EVERY_MS) {
              lastReport = Date.now();
              out(describe(progress));
            }
          },
        });
        out(`done: ${describe(result)}`);
        for (const failure of result.failures.slice(0, 20)) {
          out(`failed ${failure.key}: ${failure.reason}`);
        }
        if (result.failures.length > 0) {
          out('run the command again to retry the failed blobs');
          process.exitCode = 1;
        } else if (loaded.blobs.store !== options.to) {
          out(`every blob is in the new store: set BLOB_STORE=${options.to} and restart the hub`);
        }
      } finally {
        for (const store of [source, target]) {
          if (store instanceof S3BlobStore) {
            store.close();
          }
        }
      }
    });
}
