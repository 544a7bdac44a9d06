import { describe, expect, it } from 'vitest';

import { scheduledTimeOf } from './orchestrator-daemon.js';

describe('scheduledTimeOf', () => {
  const tick = { kind: 'schedule' as const, name: 'nightly' };

  it('reads the due time from a job scheduler job id', () => {
    const job = { id: 'repeat:schedule.nightly:1767225600000', timestamp: 1, delay: 0 };
    expect(scheduledTimeOf(job, tick).toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('prefers an explicit time (catch-up ticks) and falls back to timestamp + delay', () => {
    const job = { id: '42', timestamp: 1_000, delay: 500 };
    expect(scheduledTimeOf(job, { ...tick, scheduledTime: '2026-02-01T00:00:00.000Z' }).toISOString()).toBe(
      '2026-02-01T00:00:00.000Z',
    );
    expect(scheduledTimeOf(job, tick).getTime()).toBe(1_500);
  });
});
