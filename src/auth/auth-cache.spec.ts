import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { loadConfig } from '../config/app-config.js';
import type { RedisService } from '../infra/redis/redis.service.js';
import { AuthCache, MISS } from './auth-cache.js';

/** Only what the cache calls outside start-up: publishing an invalidation. */
const redis = { client: { publish: () => Promise.resolve(0) } } as unknown as RedisService;

const cache = () =>
  new AuthCache(loadConfig({ AUTH_CACHE_TTL_MS: '60000' }), redis, pino({ level: 'silent' }));

/** A load the test answers when it chooses. */
function held<T>() {
  let answer!: (value: T) => void;
  let calls = 0;
  const load = () => {
    calls += 1;
    return new Promise<T>((resolve) => (answer = resolve));
  };
  return { load, answer: (value: T) => answer(value), calls: () => calls };
}

describe('AuthCache', () => {
  it('answers concurrent misses of one key with one load', async () => {
    const auth = cache();
    const user = held<string>();
    const first = auth.getOrLoad('user:ada', user.load);
    const second = auth.getOrLoad('user:ada', user.load);
    user.answer('enabled');
    expect(await Promise.all([first, second])).toEqual(['enabled', 'enabled']);
    expect(await auth.getOrLoad('user:ada', user.load)).toBe('enabled');
    expect(user.calls()).toBe(1);
  });

  it('does not keep what a load read before an invalidation it overlapped', async () => {
    const auth = cache();
    const before = held<string>();
    const pending = auth.getOrLoad('user:ada', before.load);
    await auth.invalidate('user:ada');
    before.answer('enabled');
    expect(await pending).toBe('enabled');
    expect(await auth.getOrLoad('user:ada', () => Promise.resolve('disabled'))).toBe('disabled');
  });

  it('forgets a failed load, so the next request tries again', async () => {
    const auth = cache();
    await expect(auth.getOrLoad('user:ada', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await auth.getOrLoad('user:ada', () => Promise.resolve('back'))).toBe('back');
  });

  it('peeks only at fresh entries and loads nothing', async () => {
    const auth = cache();
    expect(auth.peek('user:ada')).toBe(MISS);
    await auth.getOrLoad('user:ada', () => Promise.resolve(null));
    expect(auth.peek('user:ada')).toBeNull();
    await auth.invalidate('user:ada');
    expect(auth.peek('user:ada')).toBe(MISS);
    const expiring = new AuthCache(loadConfig({ AUTH_CACHE_TTL_MS: '1' }), redis, pino({ level: 'silent' }));
    await expiring.getOrLoad('user:ada', () => Promise.resolve('enabled'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(expiring.peek('user:ada')).toBe(MISS);
  });
});
