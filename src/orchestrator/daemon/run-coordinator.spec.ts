import { describe, expect, it } from 'vitest';

import { chooseRuns } from './run-coordinator.js';

const queued = (...runs: [string, Record<string, string>][]) =>
  runs.map(([runId, tags]) => ({ runId, tags }));

describe('chooseRuns', () => {
  it('fills free slots in queue order and honours "no limit" and "stopped"', () => {
    const snapshot = { inProgress: 8, inProgressTags: [], queued: queued(['a', {}], ['b', {}], ['c', {}]) };
    expect(chooseRuns(snapshot, 10, [])).toEqual(['a', 'b']);
    expect(chooseRuns(snapshot, -1, [])).toEqual(['a', 'b', 'c']);
    expect(chooseRuns({ ...snapshot, inProgress: 12 }, 10, [])).toEqual([]);
  });

  it('applies tag limits without letting a blocked run block the ones behind it', () => {
    const snapshot = {
      inProgress: 1,
      inProgressTags: [{ db: 'mongo' }],
      queued: queued(['m1', { db: 'mongo' }], ['p1', { db: 'pg' }], ['m2', { db: 'mongo' }], ['x', {}]),
    };
    expect(chooseRuns(snapshot, 10, [{ key: 'db', value: 'mongo', limit: 1 }])).toEqual(['p1', 'x']);
    expect(chooseRuns(snapshot, 10, [{ key: 'db', limit: 2 }])).toEqual(['m1', 'x']);
    expect(chooseRuns(snapshot, 10, [{ key: 'db', perUniqueValue: true, limit: 1 }])).toEqual(['p1', 'x']);
    expect(chooseRuns(snapshot, 10, [{ key: 'db', perUniqueValue: true, limit: 2 }])).toEqual([
      'm1',
      'p1',
      'x',
    ]);
  });
});
