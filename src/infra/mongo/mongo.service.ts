import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  MongoClient,
  ObjectId,
  type Collection,
  type Db,
  type Document,
  type IndexDescription,
} from 'mongodb';
import type { Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { LOGGER } from '../logging/logging.module.js';
import { isConnectivityError, runOrRetryInBackground } from '../retry.js';

const NAMESPACE_NOT_FOUND = 26;

/** How mongosh spells an `_id`, so the start-up message can be pasted. */
function shellLiteral(id: unknown): string {
  return id instanceof ObjectId ? `ObjectId("${id.toHexString()}")` : JSON.stringify(id);
}

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
  private indexesEnsured: Promise<void> | undefined;

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

  /** Every index repositories declared, by collection (to compare with what the database holds). */
  declaredIndexes(): ReadonlyMap<string, readonly IndexDescription[]> {
    return this.declared;
  }

  /**
   * Creates the declared indexes that are missing, each on its own, and never sends one that exists:
   * FerretDB v1 panics on a createIndexes naming indexes it already has. Runs once per process (later
   * calls share the first run); bootstraps await it so that no write happens before the unique indexes
   * that make it idempotent exist. Safe when several processes run it at once.
   */
  ensureIndexes(): Promise<void> {
    this.indexesEnsured ??= this.createMissingIndexes().catch((error: unknown) => {
      this.indexesEnsured = undefined;
      throw error;
    });
    return this.indexesEnsured;
  }

  private async createMissingIndexes(): Promise<void> {
    for (const [collection, indexes] of this.declared) {
      let existing = await this.indexNames(collection);
      for (const index of indexes) {
        const name = index.name ?? Object.keys(index.key).join('_');
        if (existing.has(name)) {
          continue;
        }
        try {
          await this.db.collection(collection).createIndexes([index]);
        } catch (error) {
          // Another process may have created it meanwhile; anything else is a real failure.
          existing = await this.indexNames(collection);
          if (existing.has(name)) {
            continue;
          }
          if (index.unique) {
            await this.explainDuplicates(collection, index, error);
          }
          throw error;
        }
      }
    }
  }

  private async indexNames(collection: string): Promise<Set<string>> {
    try {
      const indexes = await this.db.collection(collection).listIndexes().toArray();
      return new Set(indexes.map((index: { name?: unknown }) => String(index.name)));
    } catch (error) {
      if ((error as { code?: unknown }).code === NAMESPACE_NOT_FOUND) {
        return new Set();
      }
      throw error;
    }
  }

  /** Throws a start-up error naming the documents that share a key a unique index must hold once. */
  private async explainDuplicates(
    collection: string,
    index: IndexDescription,
    cause: unknown,
  ): Promise<void> {
    const fields = Object.keys(index.key);
    // Grouped here rather than by $group: FerretDB v1 supports few accumulators.
    const byKey = new Map<string, unknown[]>();
    const cursor = this.db
      .collection(collection)
      .find({}, { projection: Object.fromEntries(fields.map((field) => [field, 1])) });
    for await (const doc of cursor) {
      const key = JSON.stringify(
        fields.map((field) =>
          field
            .split('.')
            .reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], doc),
        ),
      );
      byKey.set(key, [...(byKey.get(key) ?? []), doc._id]);
    }
    const duplicates = [...byKey]
      .filter(([, ids]) => ids.length > 1)
      .slice(0, 5)
      .map(([key, ids]) => ({
        key: Object.fromEntries(fields.map((field, i) => [field, (JSON.parse(key) as unknown[])[i]])),
        ids,
      }));
    if (duplicates.length === 0) {
      return;
    }
    const described = duplicates
      .map(
        (dup) =>
          `${JSON.stringify(dup.key)} is held by ${dup.ids.length} documents (_id ${dup.ids.map(shellLiteral).join(', ')})`,
      )
      .join('; ');
    throw new Error(
      `MongoDB database "${this.db.databaseName}" cannot get its unique index "${String(index.name)}" on ` +
        `${collection}(${fields.join(', ')}): ${described}. An earlier start wrote these before the index ` +
        `existed. Keep one document of each and delete the others (e.g. in mongosh: ` +
        `db.${collection}.deleteOne({_id: <one of the ids above>})), then start again.`,
      { cause },
    );
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
