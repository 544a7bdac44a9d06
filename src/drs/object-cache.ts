import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import { RedisService } from '../infra/redis/redis.service.js';
import type { ObjectDoc } from './object.model.js';

export type ObjectLoader = (missing: string[]) => Promise<ObjectDoc[]>;

/**
 * Resolved objects kept in this process's memory, so resolving a popular id costs no database round trip.
 *
 * Bounded: at most DRS_CACHE_MAX_OBJECTS objects, the least recently used leaving first, filled only by
 * the ids callers actually ask for, so a registry of millions of objects costs each process no more
 * than its working set.
 *
 * Freshness: every change (PATCH, DELETE, new types) is broadcast over Redis pub/sub and evicts the
 * entry in every process at once. DRS_CACHE_TTL_MS bounds how long an entry may be served should a
 * broadcast be lost; a reconnect of the subscriber empties the cache, since messages may have been
 * missed while it was down.
 *
 * Concurrent misses for one id share one load, so a burst of requests for an object nobody has asked
 * for yet costs one query (on FerretDB a query by `id` scans the collection).
 */
@Injectable()
export class ObjectCache implements OnModuleInit, OnApplicationShutdown {
  private readonly entries: LRUCache<string, ObjectDoc> | undefined;
  /**
   * Loads under way, by id. An eviction removes the id from here, so nobody joins a load that may have
   * read the document before the change, and that load's result is not remembered.
   */
  private readonly loading = new Map<string, Promise<ObjectDoc | undefined>>();
  private readonly channel: string;
  private subscriber: Redis | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly log: Logger,
    metrics: MetricsService,
  ) {
    this.entries =
      config.drs.cacheTtlMs > 0
        ? new LRUCache({ max: config.drs.cacheMaxObjects, ttl: config.drs.cacheTtlMs })
        : undefined;
    const size = (): number => this.entries?.size ?? 0;
    new Gauge({
      name: 'drs_object_cache_entries',
      help: "Objects held in this process's resolved-object cache",
      registers: [metrics.registry],
      collect() {
        this.set(size());
      },
    });
    this.channel = `${config.redis.prefix}:drs:invalidate`;
  }

  get enabled(): boolean {
    return this.entries !== undefined;
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) {
      return;
    }
    const subscriber = this.redis.createSubscriber();
    this.subscriber = subscriber;
    let connectedBefore = false;
    subscriber.on('ready', () => {
      if (connectedBefore) {
        this.evictAll();
      }
      connectedBefore = true;
    });
    subscriber.on('message', (_channel: string, message: string) => {
      this.evictLocally(message.split(','));
    });
    try {
      await subscriber.subscribe(this.channel);
    } catch (error) {
      this.log.warn({ err: error }, 'object cache: cannot subscribe to invalidations; relying on the TTL');
    }
  }

  /** The documents for `ids` (absent ones are missing from the map), loading what is not cached. */
  async getMany(ids: readonly string[], load: ObjectLoader): Promise<Map<string, ObjectDoc>> {
    const found = new Map<string, ObjectDoc>();
    const joined: [string, Promise<ObjectDoc | undefined>][] = [];
    const missing = new Set<string>();
    for (const id of ids) {
      const hit = this.entries?.get(id);
      const pending = hit ? undefined : this.loading.get(id);
      if (hit) {
        found.set(id, hit);
      } else if (pending) {
        joined.push([id, pending]);
      } else {
        missing.add(id);
      }
    }
    const loads = missing.size > 0 ? this.load([...missing], load) : [];
    const waited = [...joined, ...loads];
    const docs = await Promise.all(waited.map(([, pending]) => pending));
    waited.forEach(([id], index) => {
      const doc = docs[index];
      if (doc) {
        found.set(id, doc);
      }
    });
    return found;
  }

  get(id: string, load: ObjectLoader): Promise<ObjectDoc | undefined> {
    const hit = this.entries?.get(id);
    if (hit) {
      return Promise.resolve(hit);
    }
    return this.loading.get(id) ?? this.load([id], load)[0]![1];
  }

  /** Caches an object this process has just created (nothing else can have a staler copy of it). */
  add(doc: ObjectDoc): void {
    this.entries?.set(doc.id, doc);
  }

  /** Evicts `ids` here and in every other process. */
  async invalidate(ids: readonly string[]): Promise<void> {
    this.evictLocally(ids);
    if (!this.enabled || ids.length === 0) {
      return;
    }
    try {
      await this.redis.client.publish(this.channel, ids.join(','));
    } catch (error) {
      this.log.warn({ err: error, ids }, 'object cache: could not broadcast an invalidation');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.evictAll();
    if (this.subscriber) {
      await this.subscriber.quit().catch(() => undefined);
    }
  }

  /**
   * Starts one load of `ids` and registers a share of it for each id (when caching), so concurrent
   * misses join it. A result is remembered only while its id is still registered to this load.
   */
  private load(ids: string[], load: ObjectLoader): [string, Promise<ObjectDoc | undefined>][] {
    const batch = load(ids).then((docs) => new Map(docs.map((doc) => [doc.id, doc])));
    return ids.map((id) => {
      const share: Promise<ObjectDoc | undefined> = batch.then((docs) => {
        const doc = docs.get(id);
        if (this.loading.get(id) === share) {
          this.loading.delete(id);
          if (doc) {
            this.entries?.set(id, doc);
          }
        }
        return doc;
      });
      if (this.enabled) {
        this.loading.set(id, share);
        // A failed load must not stay registered: the next caller starts a new one.
        share.catch(() => {
          if (this.loading.get(id) === share) {
            this.loading.delete(id);
          }
        });
      }
      return [id, share];
    });
  }

  private evictLocally(ids: readonly string[]): void {
    for (const id of ids) {
      this.entries?.delete(id);
      this.loading.delete(id);
    }
  }

  private evictAll(): void {
    this.entries?.clear();
    this.loading.clear();
  }
}
