import { describe, expect, it } from 'vitest';

import { serializeReply, servedUnchanged } from './json-once.js';

describe('serializeReply', () => {
  it('serialises unmarked payloads afresh, as JSON.stringify does', () => {
    const payload = { a: 1, b: ['x'] };
    expect(serializeReply(payload)).toBe('{"a":1,"b":["x"]}');
    payload.a = 2;
    expect(serializeReply(payload)).toBe('{"a":2,"b":["x"]}');
    expect(serializeReply(null)).toBe('null');
    expect(serializeReply('text')).toBe('"text"');
  });

  it('writes a marked answer once and answers the same text after', () => {
    let reads = 0;
    const answer = servedUnchanged({
      id: 'x',
      get size(): number {
        reads++;
        return 3;
      },
    });
    const first = serializeReply(answer);
    expect(first).toBe('{"id":"x","size":3}');
    expect(serializeReply(answer)).toBe(first);
    expect(reads).toBe(1);
  });

  it('freezes what it marks, so the kept text cannot go stale', () => {
    const answer = servedUnchanged({ id: 'x' });
    expect(() => {
      answer.id = 'y';
    }).toThrow(TypeError);
    expect(serializeReply(answer)).toBe('{"id":"x"}');
  });
});
