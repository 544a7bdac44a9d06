import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerStorage } from '@nestjs/throttler';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { RedisService } from '../infra/redis/redis.service.js';

/**
 * Hits and blocks live in Redis, so the limit holds across every api process. One Lua script keeps
 * the increment, the window and the block atomic.
 */
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
local blocked = redis.call('PTTL', KEYS[2])
if blocked <= 0 and hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  blocked = tonumber(ARGV[3])
end
return { hits, ttl, blocked }
`;

export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly redis: RedisService) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): ReturnType<ThrottlerStorage['increment']> {
    const base = `${this.redis.prefix}:throttle:${throttlerName}:${key}`;
    const [hits, ttlMs, blockedMs] = (await this.redis.client.eval(
      INCREMENT,
      2,
      `${base}:hits`,
      `${base}:blocked`,
      ttl,
      limit,
      blockDuration || ttl,
    )) as [number, number, number];
    const isBlocked = blockedMs > 0;
    return {
      totalHits: hits,
      timeToExpire: Math.max(0, Math.ceil(ttlMs / 1000)),
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil(blockedMs / 1000) : 0,
    };
  }
}

const COUNT_FAILURE = `
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return failures
`;

/**
 * Failed sign-ins per client address over every account: the per-account limit alone lets one address
 * try a common password against any number of accounts. Only failures count, so many users behind one
 * address who sign in correctly are never held back. Kept in Redis, so the limit spans api processes.
 */
@Injectable()
export class AddressFailureLimiter {
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limit = config.auth.tokenAddressFailureLimit;
    this.windowMs = config.auth.tokenRateWindowSeconds * 1000;
  }

  private key(address: string): string {
    return `${this.redis.prefix}:throttle:token-address-failures:${address}`;
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  async retryAfterSeconds(address: string): Promise<number> {
    const [failures, ttlMs] = await Promise.all([
      this.redis.client.get(this.key(address)),
      this.redis.client.pttl(this.key(address)),
    ]);
    return Number(failures ?? 0) >= this.limit ? Math.max(1, Math.ceil(ttlMs / 1000)) : 0;
  }

  async recordFailure(address: string): Promise<void> {
    await this.redis.client.eval(COUNT_FAILURE, 1, this.key(address), this.windowMs);
  }
}

/** Throttles per client IP and the account being logged into, so one attacker cannot lock out others. */
@Injectable()
export class TokenThrottlerGuard extends ThrottlerGuard {
  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const account =
      typeof body.username === 'string'
        ? body.username
        : typeof body.client_id === 'string'
          ? body.client_id
          : basicId(request);
    return Promise.resolve(`${String(request.ip)}|${account ?? '-'}`);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }
}

function basicId(request: Record<string, unknown>): string | undefined {
  const header = (request.headers as Record<string, string | undefined> | undefined)?.authorization;
  if (!header?.startsWith('Basic ')) {
    return undefined;
  }
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  return decoded.split(':', 1)[0];
}
