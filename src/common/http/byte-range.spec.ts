import { describe, expect, it } from 'vitest';

import { parseByteRange } from './byte-range.js';

describe(parseByteRange.name, () => {
  it('serves the whole representation without a usable header', () => {
    for (const header of [undefined, '', 'items=0-1', 'bytes=0-1,4-5', 'bytes=5-2', 'bytes=-', 'bytes=a-b']) {
      expect(parseByteRange(header, 10)).toEqual({ kind: 'whole' });
    }
  });

  it('reads first-last, open-ended and suffix ranges, clamped to the size', () => {
    expect(parseByteRange('bytes=2-5', 10)).toEqual({ kind: 'partial', start: 2, end: 5 });
    expect(parseByteRange('bytes=2-', 10)).toEqual({ kind: 'partial', start: 2, end: 9 });
    expect(parseByteRange('bytes=8-100', 10)).toEqual({ kind: 'partial', start: 8, end: 9 });
    expect(parseByteRange('bytes=-3', 10)).toEqual({ kind: 'partial', start: 7, end: 9 });
    expect(parseByteRange('bytes=-30', 10)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(parseByteRange(' bytes = 0 - 0 ', 10)).toEqual({ kind: 'partial', start: 0, end: 0 });
  });

  it('reports ranges that start past the end, empty suffixes and ranges of empty blobs', () => {
    expect(parseByteRange('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });
});
