import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { loadConfig } from '../config/app-config.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import type { RedisService } from '../infra/redis/redis.service.js';
import { ObjectCache } from './object-cache.js';
import type { ObjectDoc } from './object.model.js';

/** Only what the cache calls outside start-up: publishing an invalidation. */
const redis = { client: { publish: () => Promise.resolve(0) } } as unknown as RedisService;

function cache(env: Record<string, string> = {}): ObjectCache {
  return new ObjectCache(loadConfig(env), redis, pino({ level: 'silent' }), new MetricsService());
}

function doc(id: string, description: string): ObjectDoc {
  return { id, description } as ObjectDoc;
}

/** A loader whose answers the test releases, counting the ids each call asked for. */
function heldLoader() {
  const calls: string[][] = [];
  const releases: ((docs: ObjectDoc[]) => void)[] = [];
  const load = (ids: string[]) => {
    calls.push(ids);
    return new Promise<ObjectDoc[]>((resolve) => releases.push(resolve));
  };
  return { calls, releases, load };
}

describe('ObjectCache', () => {
  it('shares one load among concurrent misses of the same id', async () => {
    const objects = cache();
    const loader = heldLoader();
    const first = objects.get('a', loader.load);
    const second = objects.get('a', loader.load);
    const many = objects.getMany(['a', 'b'], loader.load);
    expect(loader.calls).toEqual([['a'], ['b']]);
    loader.releases[0]!([doc('a', 'one')]);
    loader.releases[1]!([doc('b', 'two')]);
    expect((await first)?.description).toBe('one');
    expect((await second)?.description).toBe('one');
    expect([...(await many).keys()]).toEqual(['a', 'b']);
    expect((await objects.get('a', loader.load))?.description).toBe('one');
    expect(loader.calls).toHaveLength(2);
  });

  it('neither joins nor keeps a load that an invalidation overtook', async () => {
    const objects = cache();
    const loader = heldLoader();
    const before = objects.get('a', loader.load);
    await objects.invalidate(['a']);
    const after = objects.get('a', loader.load);
    expect(loader.calls).toEqual([['a'], ['a']]);
    loader.releases[1]!([doc('a', 'new')]);
    loader.releases[0]!([doc('a', 'old')]);
    expect((await before)?.description).toBe('old');
    expect((await after)?.description).toBe('new');
    expect((await objects.get('a', loader.load))?.description).toBe('new');
    expect(loader.calls).toHaveLength(2);
  });

  it('forgets a failed load, so the next caller tries again', async () => {
    const objects = cache();
    await expect(objects.get('a', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect((await objects.get('a', () => Promise.resolve([doc('a', 'back')])))?.description).toBe('back');
  });

  it('keeps the most recently used objects up to its bound', async () => {
    const objects = cache({ DRS_CACHE_MAX_OBJECTS: '2' });
    const load = (ids: string[]) => Promise.resolve(ids.map((id) => doc(id, 'loaded')));
    await objects.getMany(['a', 'b'], load);
    await objects.get('a', load);
    await objects.get('c', load);
    const reloaded: string[] = [];
    const counting = (ids: string[]) => {
      reloaded.push(...ids);
      return load(ids);
    };
    await objects.getMany(['a', 'b', 'c'], counting);
    expect(reloaded).toEqual(['b']);
  });

  it('loads every time when turned off', async () => {
    const objects = cache({ DRS_CACHE_TTL_MS: '0' });
    let loads = 0;
    const load = (ids: string[]) => {
      loads += 1;
      return Promise.resolve(ids.map((id) => doc(id, 'loaded')));
    };
    await objects.get('a', load);
    await objects.get('a', load);
    expect(loads).toBe(2);
  });
});
