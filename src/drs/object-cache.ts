import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import { RedisService } from '../infra/redis/redis.service.js';
import type { ObjectDoc } from './object.model.js';

interface Entry {
  doc: ObjectDoc;
  expiresAt: number;
}

export type ObjectLoader = (missing: string[]) => Promise<ObjectDoc[]>;
export type ObjectScan = () => AsyncIterable<ObjectDoc>;

/**
 * Resolved objects kept in this process's memory, so resolving an id costs no database round trip.
 *
 * Freshness: every change (PATCH, DELETE, new types) is broadcast over Redis pub/sub and evicts the
 * entry in every process at once. DRS_CACHE_TTL_MS bounds how long an entry may be served should a
 * broadcast be lost; a reconnect of the subscriber empties the cache, since messages may have been
 * missed while it was down.
 *
 * Processes that serve the API also {@link keepWarm}: one pass over the registry loads every object
 * (up to DRS_CACHE_MAX_OBJECTS) and is repeated within the TTL, so lookups do not fall back to the
 * database one id at a time — on FerretDB every such query scans the collection.
 */
@Injectable()
export class ObjectCache implements OnModuleInit, OnApplicationShutdown {
  private entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly channel: string;
  private subscriber: Redis | undefined;
  /**
   * Bumped by every invalidation. A load that started before one may have read the old document, so
   * its result is served but not cached.
   */
  private generation = 0;
  /** Ids evicted while a warming pass runs: its copies of them may predate the change. */
  private evictedDuringPass: Set<string> | undefined;
  /** Bumped when everything is evicted at once; a warming pass that spans one is thrown away. */
  private flushes = 0;
  private warming:
    { scan: ObjectScan; timer: NodeJS.Timeout; running: Promise<void> | undefined } | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly log: Logger,
    metrics: MetricsService,
  ) {
    const entries = (): number => this.entries.size;
    new Gauge({
      name: 'drs_object_cache_entries',
      help: "Objects held in this process's resolved-object cache",
      registers: [metrics.registry],
      collect() {
        this.set(entries());
      },
    });
    this.ttlMs = config.drs.cacheTtlMs;
    this.maxEntries = config.drs.cacheMaxObjects;
    this.channel = `${config.redis.prefix}:drs:invalidate`;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
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
        this.warmSoon();
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
    const missing = new Set<string>();
    const now = Date.now();
    for (const id of ids) {
      const hit = this.entries.get(id);
      if (hit && hit.expiresAt > now) {
        found.set(id, hit.doc);
      } else {
        missing.add(id);
      }
    }
    if (missing.size === 0) {
      return found;
    }
    const generation = this.generation;
    const loaded = await load([...missing]);
    const cacheable = this.enabled && generation === this.generation;
    for (const doc of loaded) {
      found.set(doc.id, doc);
      if (cacheable) {
        this.remember(doc, now);
      }
    }
    return found;
  }

  async get(id: string, load: ObjectLoader): Promise<ObjectDoc | undefined> {
    const hit = this.entries.get(id);
    if (hit && hit.expiresAt > Date.now()) {
      return hit.doc;
    }
    return (await this.getMany([id], load)).get(id);
  }

  /** Caches an object this process has just created (nothing else can have a staler copy of it). */
  add(doc: ObjectDoc): void {
    if (this.enabled) {
      this.remember(doc, Date.now());
    }
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

  /** Loads the registry now and again every half TTL, until shutdown. */
  async keepWarm(scan: ObjectScan): Promise<void> {
    if (!this.enabled || this.warming) {
      return;
    }
    const timer = setInterval(() => this.warmSoon(), Math.max(this.ttlMs / 2, 1000));
    timer.unref();
    this.warming = { scan, timer, running: undefined };
    await this.warm();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.warming) {
      clearInterval(this.warming.timer);
      await this.warming.running;
      this.warming = undefined;
    }
    this.entries.clear();
    if (this.subscriber) {
      await this.subscriber.quit().catch(() => undefined);
    }
  }

  private warmSoon(): void {
    if (this.warming && !this.warming.running) {
      void this.warm();
    }
  }

  /** One pass over the registry; the fresh copies replace the cache when the pass completes. */
  private warm(): Promise<void> {
    const warming = this.warming;
    if (!warming) {
      return Promise.resolve();
    }
    warming.running ??= (async () => {
      const started = Date.now();
      const flushes = this.flushes;
      const evicted = new Set<string>();
      this.evictedDuringPass = evicted;
      try {
        const fresh = new Map<string, Entry>();
        for await (const doc of warming.scan()) {
          if (fresh.size >= this.maxEntries) {
            break;
          }
          fresh.set(doc.id, { doc, expiresAt: started + this.ttlMs });
        }
        for (const id of evicted) {
          fresh.delete(id);
        }
        if (flushes === this.flushes) {
          this.entries = fresh;
          this.log.debug({ objects: fresh.size, ms: Date.now() - started }, 'object cache warmed');
        }
      } catch (error) {
        this.log.warn({ err: error }, 'object cache: could not load the registry; resolving ids one by one');
      } finally {
        this.evictedDuringPass = undefined;
        warming.running = undefined;
      }
    })();
    return warming.running;
  }

  private remember(doc: ObjectDoc, now: number): void {
    this.entries.delete(doc.id);
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order, so the first key is the entry cached longest ago.
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
      }
    }
    this.entries.set(doc.id, { doc, expiresAt: now + this.ttlMs });
  }

  private evictLocally(ids: readonly string[]): void {
    this.generation += 1;
    for (const id of ids) {
      this.entries.delete(id);
      this.evictedDuringPass?.add(id);
    }
  }

  private evictAll(): void {
    this.generation += 1;
    this.flushes += 1;
    this.entries.clear();
  }
}
