import { describe, expect, it } from 'vitest';

import { retryDelayMs } from './retry.js';

describe('retryDelayMs', () => {
  it("follows Dagster's backoff formulas", () => {
    expect([1, 2, 3].map((n) => retryDelayMs({ maxRetries: 3, delayMs: 100 }, n))).toEqual([100, 100, 100]);
    expect([1, 2, 3].map((n) => retryDelayMs({ maxRetries: 3, delayMs: 100, backoff: 'linear' }, n))).toEqual(
      [100, 200, 300],
    );
    expect(
      [1, 2, 3].map((n) => retryDelayMs({ maxRetries: 3, delayMs: 100, backoff: 'exponential' }, n)),
    ).toEqual([100, 300, 700]);
  });

  it('applies full and plus/minus jitter', () => {
    expect(retryDelayMs({ maxRetries: 1, delayMs: 100, jitter: 'full' }, 1, () => 0.25)).toBe(25);
    expect(retryDelayMs({ maxRetries: 1, delayMs: 100, jitter: 'plus_minus' }, 1, () => 0)).toBe(0);
    expect(retryDelayMs({ maxRetries: 1, delayMs: 100, jitter: 'plus_minus' }, 1, () => 1)).toBe(200);
  });
});
