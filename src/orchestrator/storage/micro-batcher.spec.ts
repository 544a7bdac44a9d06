import { describe, expect, it } from 'vitest';

import { MicroBatcher } from './micro-batcher.js';

describe('MicroBatcher', () => {
  it('runs concurrent submissions as one batch and answers each caller with its own result', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, number>((inputs) => {
      batches.push(inputs);
      return Promise.resolve(inputs.map((n) => n * 10));
    });
    const results = await Promise.all([1, 2, 3].map((n) => batcher.submit(n)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await batcher.submit(4)).toBe(40);
    expect(batches).toHaveLength(2);
  });

  it('sends the calls of one event-loop turn together as soon as that turn ends, with no timer to wait out', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, number>((inputs) => {
      batches.push(inputs);
      return Promise.resolve(inputs);
    });
    const first = [batcher.submit(1), batcher.submit(2)];
    const turnEnded = new Promise((resolve) => setImmediate(resolve));
    await turnEnded;
    expect(batches).toEqual([[1, 2]]);
    await Promise.all(first);
    const later = batcher.submit(3);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1, 2], [3]]);
    await later;
  });

  it('flushes at the size limit and fails every caller of a failed batch', async () => {
    let calls = 0;
    const batcher = new MicroBatcher<number, number>(() => {
      calls++;
      return Promise.reject(new Error('database down'));
    }, 2);
    const outcomes = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(calls).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });
});
