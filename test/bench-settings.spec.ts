import { afterEach, describe, expect, it, vi } from 'vitest';

import { benchInteger, benchNumber, benchSettings, requiredSetting } from '../bench/lib/settings.js';

/** The readers of bench/lib/settings.ts: a benchmark's knob is its default, a valid value, or a clear stop. */
describe('the benchmark knob readers', () => {
  const KNOB = 'BENCH_SPEC_KNOB';
  /** A share between 0 and 1, and a document count, as two benches read them. */
  const share = (): number => benchNumber(KNOB, 0.25, 0, 1);
  const docs = (): number => benchInteger(KNOB, 10_000, 1, 100_000);

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    { reader: 'benchNumber', read: share, fallback: 0.25 },
    { reader: 'benchInteger', read: docs, fallback: 10_000 },
  ])('$reader answers the fallback when the variable is unset or empty', ({ read, fallback }) => {
    vi.stubEnv(KNOB, undefined);
    expect(read()).toBe(fallback);
    vi.stubEnv(KNOB, '');
    expect(read()).toBe(fallback);
  });

  describe('benchNumber', () => {
    const stops = `${KNOB} must be a number between 0 and 1`;

    it('reads a value in range, the bounds included', () => {
      vi.stubEnv(KNOB, '0.6');
      expect(share()).toBe(0.6);
      vi.stubEnv(KNOB, '0');
      expect(share()).toBe(0);
      vi.stubEnv(KNOB, '1');
      expect(share()).toBe(1);
    });

    it('stops on text that is not a number', () => {
      vi.stubEnv(KNOB, '25%');
      expect(share).toThrow(stops);
      vi.stubEnv(KNOB, 'abc');
      expect(share).toThrow(stops);
    });

    it('stops below and above the range', () => {
      vi.stubEnv(KNOB, '-0.1');
      expect(share).toThrow(stops);
      vi.stubEnv(KNOB, '1.5');
      expect(share).toThrow(stops);
    });

    it('stops on Infinity, even where the range has no end', () => {
      vi.stubEnv(KNOB, 'Infinity');
      expect(share).toThrow(stops);
      expect(() => benchNumber(KNOB, 1, 0, Number.POSITIVE_INFINITY)).toThrow(
        `${KNOB} must be a number between 0 and Infinity`,
      );
      vi.stubEnv(KNOB, '-Infinity');
      expect(() => benchNumber(KNOB, 1, Number.NEGATIVE_INFINITY, 10)).toThrow(
        `${KNOB} must be a number between -Infinity and 10`,
      );
    });

    it('names the unit when it is given', () => {
      vi.stubEnv(KNOB, '10s');
      expect(() => benchNumber(KNOB, 3, 1, 120, 'seconds')).toThrow(
        `${KNOB} must be a number of seconds between 1 and 120`,
      );
    });

    it('keeps the message of the shared duration settings', () => {
      vi.stubEnv('BENCH_DURATION_SECONDS', '2.5');
      vi.stubEnv('BENCH_WARMUP_SECONDS', '');
      vi.stubEnv('BENCH_ROUNDS', undefined);
      expect(benchSettings({ durationSeconds: 10, warmupSeconds: 3, rounds: 2 })).toEqual({
        durationSeconds: 2.5,
        warmupSeconds: 3,
        rounds: 2,
      });
      vi.stubEnv('BENCH_WARMUP_SECONDS', 'NaN');
      expect(() => benchSettings({ durationSeconds: 10, warmupSeconds: 3, rounds: 2 })).toThrow(
        'BENCH_WARMUP_SECONDS must be a number of seconds between 0 and 120',
      );
    });
  });

  describe('benchInteger', () => {
    const stops = `${KNOB} must be an integer between 1 and 100000`;

    it('reads a value in range', () => {
      vi.stubEnv(KNOB, '2500');
      expect(docs()).toBe(2500);
    });

    it('stops on a typo, a fraction, below and above the range, and Infinity', () => {
      for (const typo of ['10k', 'NaN', '2.5', '0', '100001', 'Infinity']) {
        vi.stubEnv(KNOB, typo);
        expect(docs, typo).toThrow(stops);
      }
    });
  });

  describe('requiredSetting', () => {
    it('answers the value, and stops when it is unset or empty', () => {
      vi.stubEnv(KNOB, 'redis://127.0.0.1:6379');
      expect(requiredSetting(KNOB)).toBe('redis://127.0.0.1:6379');
      vi.stubEnv(KNOB, '');
      expect(() => requiredSetting(KNOB)).toThrow(`${KNOB} is required`);
      vi.stubEnv(KNOB, undefined);
      expect(() => requiredSetting(KNOB)).toThrow(`${KNOB} is required`);
    });
  });
});
