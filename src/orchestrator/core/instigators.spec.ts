import { describe, expect, it } from 'vitest';

import { DefinitionError } from './errors.js';
import { graph } from './graph.js';
import { op } from './op.js';
import { repository } from './repository.js';
import { hostResource } from './resource.js';
import { dueTimes, nextScheduledTime, schedule } from './schedule.js';
import { evaluateSensor, runRequest, sensor, SensorResult, skipReason } from './sensor.js';

const job = graph('target', ({ call }) => call(op({ name: 'noop' }, () => null))).toJob();
const fresh = { cursor: null, lastRunKey: null, lastTickCompletionTime: null };

describe('sensors', () => {
  it('collects yielded run requests and the cursor', async () => {
    const s = sensor({ name: 'gen', job }, function* (ctx) {
      ctx.updateCursor('2');
      yield runRequest({ runKey: 'a' });
      yield runRequest({ runKey: 'b', tags: { t: '1' } });
    });
    const evaluation = await evaluateSensor(s, fresh);
    expect(evaluation.runRequests.map((r) => [r.jobName, r.runKey])).toEqual([
      ['target', 'a'],
      ['target', 'b'],
    ]);
    expect(evaluation.cursor).toBe('2');
    expect(evaluation.skipReason).toBeUndefined();
  });

  it('reports skip reasons, async generators and SensorResult', async () => {
    const skipping = sensor({ name: 'skipping', job }, () => skipReason('nothing new'));
    expect((await evaluateSensor(skipping, fresh)).skipReason).toBe('nothing new');
    const asyncGen = sensor({ name: 'async_gen', job }, async function* () {
      await Promise.resolve();
      yield runRequest();
    });
    expect((await evaluateSensor(asyncGen, fresh)).runRequests).toHaveLength(1);
    const result = sensor(
      { name: 'result', job },
      () => new SensorResult({ runRequests: [runRequest({ runKey: 'x' })], cursor: 'c' }),
    );
    expect(await evaluateSensor(result, fresh)).toMatchObject({
      cursor: 'c',
      runRequests: [{ runKey: 'x' }],
    });
  });

  it('refuses a request for a job the sensor does not target', async () => {
    const wrong = sensor({ name: 'wrong', job }, () => runRequest({ jobName: 'other' }));
    await expect(evaluateSensor(wrong, fresh)).rejects.toThrow(/requested job "other"/);
  });

  it('defaults to a 30 second interval, stopped', () => {
    expect(sensor({ name: 'defaults', job }, () => null)).toMatchObject({
      minimumIntervalSeconds: 30,
      defaultStatus: 'STOPPED',
    });
  });
});

describe('schedules', () => {
  it('refuses seconds-level crons and unknown time zones', () => {
    expect(() => schedule({ name: 'bad', job, cron: '*/5 * * * * *' })).toThrow(/five fields/);
    expect(() => schedule({ name: 'bad_tz', job, cron: '0 * * * *', timezone: 'Mars/Base' })).toThrow(
      /IANA time zone/,
    );
  });

  it('computes due times capped by maxCatchupRuns, latest first kept', () => {
    const hourly = schedule({ name: 'hourly', job, cron: '0 * * * *' });
    const after = new Date('2026-01-01T00:30:00Z');
    const until = new Date('2026-01-01T05:10:00Z');
    const due = dueTimes(hourly, after, until, 2);
    expect(due.times.map((t) => t.toISOString())).toEqual([
      '2026-01-01T04:00:00.000Z',
      '2026-01-01T05:00:00.000Z',
    ]);
    expect(due.skipped).toBe(3);
  });

  it('reads the cron in its time zone', () => {
    const paris = schedule({ name: 'paris', job, cron: '0 9 * * *', timezone: 'Europe/Paris' });
    expect(nextScheduledTime(paris, new Date('2026-07-01T00:00:00Z')).toISOString()).toBe(
      '2026-07-01T07:00:00.000Z',
    );
    expect(nextScheduledTime(paris, new Date('2026-01-01T00:00:00Z')).toISOString()).toBe(
      '2026-01-01T08:00:00.000Z',
    );
  });
});

describe('repository', () => {
  it('includes targeted jobs, binds repository resources and checks names', () => {
    const needs = graph('needs', ({ call }) =>
      call(op({ name: 'uses', requiredResources: ['db'] }, () => 1)),
    ).toJob();
    expect(() => repository({ name: 'r', jobs: [needs] })).toThrow(/job "needs" lacks resource\(s\) db/);
    const s = sensor({ name: 'watch', job: needs }, () => null);
    const repo = repository({ name: 'r', sensors: [s], resources: { db: hostResource('db') } });
    expect([...repo.jobs.keys()]).toEqual(['needs']);
    expect(Object.keys(repo.jobs.get('needs')?.resources ?? {})).toEqual(['db']);
    expect(repo.sensors.get('watch')?.jobs[0]).toBe(repo.jobs.get('needs'));
    expect(() =>
      repository({
        name: 'r',
        sensors: [s],
        schedules: [schedule({ name: 'watch', job, cron: '@daily' })],
        resources: { db: hostResource('db') },
      }),
    ).toThrow(DefinitionError);
  });
});
