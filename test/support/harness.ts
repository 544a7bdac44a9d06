import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import type { ModuleMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { pino } from 'pino';

import { createApp } from '../../src/app.factory.js';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { packageInfo } from '../../src/config/package-info.js';
import { MongoService } from '../../src/infra/mongo/mongo.service.js';
import { PostgresService } from '../../src/infra/postgres/postgres.service.js';
import { RedisService } from '../../src/infra/redis/redis.service.js';
import { TEST_ENV } from './env.js';

export interface TestHub {
  readonly app: NestFastifyApplication;
  readonly config: AppConfig;
  /** Every log line the hub wrote, as raw JSON text. */
  readonly logs: string[];
  inject: NestFastifyApplication['inject'];
  /** The base URL when started with `listen: true`. */
  readonly url?: string;
  close(): Promise<void>;
}

export interface TestHubOptions {
  readonly env?: Record<string, string>;
  readonly listen?: boolean;
  /** The port to listen on (default: any free one); for tests whose PUBLIC_BASE_URL must name it. */
  readonly port?: number;
  readonly extraModules?: ModuleMetadata['imports'];
  /** Leave the isolated databases in place (to inspect them after a failure). */
  readonly keepData?: boolean;
}

/** A fresh, isolated set of names: each test file gets its own Mongo database, PG schema and Redis prefix. */
export function isolatedEnv(): Record<string, string> {
  const id = randomBytes(5).toString('hex');
  return {
    ...TEST_ENV,
    NODE_ENV: 'test',
    MONGO_DB: `rh_test_${id}`,
    PG_SCHEMA: `t_${id}`,
    REDIS_PREFIX: `t:${id}`,
    LOG_LEVEL: 'debug',
    LOG_PRETTY: 'false',
    PORT: '0',
  };
}

/** Boots the real hub against the real services with isolated names. */
export async function startTestHub(options: TestHubOptions = {}): Promise<TestHub> {
  const blobDir = await mkdtemp(join(tmpdir(), 'rh-blobs-'));
  const config = loadConfig({ ...isolatedEnv(), BLOB_DIR: blobDir, ...options.env }, packageInfo().version);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = pino({ level: config.log.level, base: { service: config.service.name } }, sink);
  const app = await createApp(config, { logger, extraModules: options.extraModules });
  let url: string | undefined;
  if (options.listen) {
    await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    url = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : undefined;
  } else {
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  }

  return {
    app,
    config,
    logs,
    url,
    inject: app.inject.bind(app),
    async close() {
      if (!options.keepData) {
        await dropIsolatedData(app, config).catch(() => undefined);
      }
      if (options.listen) {
        // Keep-alive sockets of the test's own HTTP clients would hold a graceful close open.
        app.getHttpServer().closeAllConnections();
      }
      await app.close();
      await rm(blobDir, { recursive: true, force: true });
    },
  };
}

async function dropIsolatedData(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const mongo = app.get(MongoService);
  const postgres = app.get(PostgresService);
  const redis = app.get(RedisService);
  await Promise.allSettled([
    mongo.db.dropDatabase(),
    postgres.query(`DROP SCHEMA IF EXISTS "${config.postgres.schema}" CASCADE`),
    (async () => {
      let cursor = '0';
      do {
        const [next, keys] = await redis.client.scan(
          cursor,
          'MATCH',
          `${config.redis.prefix}:*`,
          'COUNT',
          500,
        );
        cursor = next;
        if (keys.length > 0) {
          await redis.client.del(...keys);
        }
      } while (cursor !== '0');
    })(),
  ]);
}
