import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MongoClient, type Collection, type Db, type Document, type IndexDescription } from 'mongodb';
import type { Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { LOGGER } from '../logging/logging.module.js';
import { isConnectivityError, runOrRetryInBackground } from '../retry.js';

/**
 * Owns the one MongoClient of the process. Repositories declare their indexes here when they are
 * constructed; the indexes are ensured once at boot, before the first request is served.
 */
@Injectable()
export class MongoService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly client: MongoClient;
  readonly db: Db;
  private readonly declared = new Map<string, IndexDescription[]>();
  private stopRetry: (() => void) | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    this.client = new MongoClient(config.mongo.url, {
      serverSelectionTimeoutMS: config.mongo.serverSelectionTimeoutMs,
      appName: config.service.name,
      maxPoolSize: config.mongo.poolMax,
    });
    this.db = this.client.db(config.mongo.database);
  }

  collection<T extends Document>(name: string): Collection<T> {
    return this.db.collection<T>(name);
  }

  /** Several repositories may share a collection and declare the same index; it is created once. */
  declareIndexes(collection: string, indexes: IndexDescription[]): void {
    const list = this.declared.get(collection) ?? [];
    for (const index of indexes) {
      if (!list.some((existing) => existing.name !== undefined && existing.name === index.name)) {
        list.push(index);
      }
    }
    this.declared.set(collection, list);
  }

  async ensureIndexes(): Promise<void> {
    for (const [collection, indexes] of this.declared) {
      if (indexes.length > 0) {
        await this.db.collection(collection).createIndexes(indexes);
      }
    }
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  async onApplicationBootstrap(): Promise<void> {
    const handle = await runOrRetryInBackground(
      'ensuring MongoDB indexes',
      () => this.ensureIndexes(),
      this.log,
      isConnectivityError,
    );
    this.stopRetry = () => handle.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopRetry?.();
    await this.client.close();
  }
}
