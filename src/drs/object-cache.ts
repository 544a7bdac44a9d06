import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { RedisService } from '../infra/redis/redis.service.js';
import type { ObjectDoc } from './object.model.js';

interface Entry {
  doc: ObjectDoc;
  expiresAt: number;
}

const MAX_ENTRIES = 200_000;

/**
 * Resolved objects kept in this process's memory, so the DRS hot path costs no database round trip.
 * Every change (PATCH, DELETE, new types) is broadcast over Redis pub/sub and evicts the entry in every
 * api process at once; DRS_CACHE_TTL_MS bounds staleness should a broadcast be lost, and a reconnect of
 * the subscriber empties the cache because messages may have been missed while it was down.
 */
@Injectable()
export class ObjectCache implements OnModuleInit, OnApplicationShutdown {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly channel: string;
  private subscriber: Redis | undefined;
  /**
   * Bumped by every invalidation. A load that started before one may have read the old document, so
   * its result is served but not cached.
   */
  private generation = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    this.ttlMs = config.drs.cacheTtlMs;
    this.channel = `${config.redis.prefix}:drs:invalidate`;
  }

  async onModuleInit(): Promise<void> {
    if (this.ttlMs === 0) {
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
  async getMany(
    ids: readonly string[],
    load: (missing: string[]) => Promise<ObjectDoc[]>,
  ): Promise<Map<string, ObjectDoc>> {
    const found = new Map<string, ObjectDoc>();
    const missing: string[] = [];
    const now = Date.now();
    for (const id of ids) {
      const hit = this.entries.get(id);
      if (hit && hit.expiresAt > now) {
        found.set(id, hit.doc);
      } else if (!found.has(id)) {
        missing.push(id);
      }
    }
    if (missing.length === 0) {
      return found;
    }
    const generation = this.generation;
    const loaded = await load([...new Set(missing)]);
    const cacheable = this.ttlMs > 0 && generation === this.generation;
    for (const doc of loaded) {
      found.set(doc.id, doc);
      if (cacheable) {
        this.remember(doc, now);
      }
    }
    return found;
  }

  async get(id: string, load: (missing: string[]) => Promise<ObjectDoc[]>): Promise<ObjectDoc | undefined> {
    const hit = this.entries.get(id);
    if (hit && hit.expiresAt > Date.now()) {
      return hit.doc;
    }
    return (await this.getMany([id], load)).get(id);
  }

  /** Evicts `ids` here and in every other process. */
  async invalidate(ids: readonly string[]): Promise<void> {
    this.evictLocally(ids);
    if (this.ttlMs === 0 || ids.length === 0) {
      return;
    }
    try {
      await this.redis.client.publish(this.channel, ids.join(','));
    } catch (error) {
      this.log.warn({ err: error, ids }, 'object cache: could not broadcast an invalidation');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.entries.clear();
    if (this.subscriber) {
      await this.subscriber.quit().catch(() => undefined);
    }
  }

  private remember(doc: ObjectDoc, now: number): void {
    this.entries.delete(doc.id);
    if (this.entries.size >= MAX_ENTRIES) {
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
    }
  }

  private evictAll(): void {
    this.generation += 1;
    this.entries.clear();
  }
}
