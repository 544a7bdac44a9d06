import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { holdHeapGrowth, LARGE_STREAM_BYTES, largeStreamsRelaying, withHeapGrowth } from './heap-growth.js';

describe('heap growth while large streams are relayed', () => {
  it('is held while any holder remains, and each release counts once', () => {
    const before = largeStreamsRelaying();
    const first = holdHeapGrowth();
    const second = holdHeapGrowth();
    expect(largeStreamsRelaying()).toBe(before + 2);
    first();
    first();
    expect(largeStreamsRelaying()).toBe(before + 1);
    second();
    expect(largeStreamsRelaying()).toBe(before);
  });

  it('holds for a stream of unknown or large size until it ends or fails, never for a small one', async () => {
    const before = largeStreamsRelaying();
    withHeapGrowth(new PassThrough(), 1024);
    expect(largeStreamsRelaying()).toBe(before);

    const large = withHeapGrowth(new PassThrough(), LARGE_STREAM_BYTES);
    const unknown = withHeapGrowth(new PassThrough());
    expect(largeStreamsRelaying()).toBe(before + 2);
    large.resume();
    large.end('bytes');
    await new Promise((resolve) => large.once('end', resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(largeStreamsRelaying()).toBe(before + 1);
    unknown.destroy(new Error('client went away'));
    unknown.once('error', () => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(largeStreamsRelaying()).toBe(before);
  });
});
