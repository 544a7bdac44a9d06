import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { RedisService } from '../infra/redis/redis.service.js';

/** What {@link AuthCache.peek} answers when the key has no fresh entry. */
export const MISS: unique symbol = Symbol('auth cache miss');

interface Entry {
  value: unknown;
  expiresAt: number;
}

/**
 * A short-lived per-process cache of what a bearer token resolves to (user status, client, revocation,
 * allowances), so verifying a token does not cost database round trips on every request. Changes are
 * broadcast over Redis and evict the entry in every process at once; the TTL bounds staleness should a
 * broadcast be missed.
 */
@Injectable()
export class AuthCache implements OnModuleInit, OnApplicationShutdown {
  private readonly entries = new Map<string, Entry>();
  /**
   * Loads under way, by key: when an entry expires under load, every request in flight would otherwise
   * query the database for it at once. An eviction removes the key, so nobody joins (and nothing keeps)
   * a load that may have read the old value.
   */
  private readonly loading = new Map<string, Promise<unknown>>();
  private readonly ttlMs: number;
  private readonly channel: string;
  private evictions = 0;
  private subscriber: Redis | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    this.ttlMs = config.auth.cacheTtlMs;
    this.channel = `${config.redis.prefix}:auth:invalidate`;
  }

  async onModuleInit(): Promise<void> {
    if (this.ttlMs === 0) {
      return;
    }
    this.subscriber = this.redis.createSubscriber();
    this.subscriber.on('message', (_channel: string, key: string) => {
      this.evictions++;
      if (key === '*') {
        this.entries.clear();
        this.loading.clear();
      } else {
        this.entries.delete(key);
        this.loading.delete(key);
      }
    });
    try {
      await this.subscriber.subscribe(this.channel);
    } catch (error) {
      this.log.warn({ err: error }, 'auth cache: cannot subscribe to invalidations; relying on the TTL');
    }
  }

  /**
   * The fresh entry for `key` without loading anything, or {@link MISS}: lets a request whose answers
   * are all cached be served without a promise per lookup.
   */
  peek(key: string): unknown {
    const hit = this.peekEntry(key);
    return hit === undefined ? MISS : hit.value;
  }

  /** The fresh entry for `key` with its expiry, or undefined: for answers derived from several entries. */
  peekEntry(key: string): Readonly<Entry> | undefined {
    const hit = this.entries.get(key);
    return hit !== undefined && hit.expiresAt > Date.now() ? hit : undefined;
  }

  /**
   * Changes whenever an entry is evicted before its time (here or by a broadcast): an answer derived from
   * fresh entries stays right while this is unchanged and none of them has expired.
   */
  get generation(): number {
    return this.evictions;
  }

  async getOrLoad<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (this.ttlMs === 0) {
      return load();
    }
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) {
      return hit.value as T;
    }
    const pending = this.loading.get(key);
    if (pending) {
      return pending as Promise<T>;
    }
    let stillCurrent = false;
    const loaded = load().finally(() => {
      stillCurrent = this.loading.get(key) === loaded;
      if (stillCurrent) {
        this.loading.delete(key);
      }
    });
    this.loading.set(key, loaded);
    const value = await loaded;
    if (!stillCurrent) {
      return value;
    }
    if (this.entries.size > 50_000) {
      this.evictions++;
      this.entries.clear();
    }
    this.entries.set(key, { value, expiresAt: now + this.ttlMs });
    return value;
  }

  /** Evicts `key` here and in every other process. */
  async invalidate(key: string): Promise<void> {
    this.evictions++;
    this.entries.delete(key);
    this.loading.delete(key);
    if (this.ttlMs === 0) {
      return;
    }
    try {
      await this.redis.client.publish(this.channel, key);
    } catch (error) {
      this.log.warn({ err: error, key }, 'auth cache: could not broadcast an invalidation');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.evictions++;
    this.entries.clear();
    this.loading.clear();
    if (this.subscriber) {
      await this.subscriber.quit().catch(() => undefined);
    }
  }
}

export const cacheKeys = {
  user: (username: string) => `user:${username}`,
  client: (clientId: string) => `client:${clientId}`,
  revoked: (jti: string) => `revoked:${jti}`,
  allowance: (username: string, action: string) => `allow:${username}:${action}`,
} as const;
