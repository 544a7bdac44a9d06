import { describe, expect, it } from 'vitest';

import { findByKey, keyedBy, writeByKey } from './keyed-by-id.js';

describe('keyed-by-id', () => {
  it('keys a document by its id without changing its fields', () => {
    expect(keyedBy('j1', { id: 'j1', n: 1 })).toEqual({ _id: 'j1', id: 'j1', n: 1 });
  });

  it('looks up by _id first and by the key field only when that finds nothing', async () => {
    const filters: Record<string, unknown>[] = [];
    const stored = [
      { _id: 'gen-1', id: 'old' },
      { _id: 'new', id: 'new' },
    ];
    const query = (filter: Record<string, unknown>) => {
      filters.push(filter);
      return Promise.resolve(
        stored.find((doc) => Object.entries(filter).every(([k, v]) => doc[k as keyof typeof doc] === v)) ??
          null,
      );
    };
    expect(await findByKey('id', 'new', {}, query)).toEqual({ _id: 'new', id: 'new' });
    expect(filters).toEqual([{ _id: 'new' }]);
    filters.length = 0;
    expect(await findByKey('id', 'old', {}, query)).toEqual({ _id: 'gen-1', id: 'old' });
    expect(filters).toEqual([{ _id: 'old' }, { id: 'old' }]);
    expect(await findByKey('id', 'none', {}, query)).toBeNull();
  });

  it('writes by _id first and by the key field only when nothing matched, keeping the other conditions', async () => {
    const filters: Record<string, unknown>[] = [];
    const write = (matched: number) => (filter: Record<string, unknown>) => {
      filters.push(filter);
      return Promise.resolve(filters.length === 1 ? matched : 1);
    };
    expect(await writeByKey('id', 'j1', { version: 3 }, write(1))).toBe(1);
    expect(filters).toEqual([{ _id: 'j1', version: 3 }]);
    filters.length = 0;
    expect(await writeByKey('id', 'j1', { version: 3 }, write(0))).toBe(1);
    expect(filters).toEqual([
      { _id: 'j1', version: 3 },
      { id: 'j1', version: 3 },
    ]);
  });
});
