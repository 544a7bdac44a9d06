/**
 * Definitions that exist only for the orchestrator tests, served through ORCH_CODE_LOCATIONS so spawned
 * worker processes load them too. Module-level `control` steers behaviour from tests that run the hub
 * in their own process.
 */
import {
  graph,
  op,
  repository,
  runRequest,
  schedule,
  sensor,
  skipReason,
} from '../../src/orchestrator/core/index.js';

export const control = {
  failSecondStep: true,
  sensorShouldFail: false,
  executions: new Map<string, number>(),
};

const count = (name: string): void => {
  control.executions.set(name, (control.executions.get(name) ?? 0) + 1);
};

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    });
  });

const noop = op({ name: 'noop' }, () => 'ok');
export const noopJob = graph('noop_job', ({ call }) => call(noop)).toJob();

const flaky = op({ name: 'flaky', retryPolicy: { maxRetries: 3, delayMs: 20, backoff: 'linear' } }, (ctx) => {
  if (ctx.attempt <= 2) {
    throw new Error(`transient failure on attempt ${ctx.attempt}`);
  }
  return ctx.attempt;
});
export const flakyJob = graph('flaky_job', ({ call }) => call(flaky)).toJob();

const first = op({ name: 'first' }, () => {
  count('first');
  return 21;
});
const wait = op<{ ms: number }, [number]>(
  {
    name: 'wait',
    ins: { value: {} },
    config: {
      type: 'object',
      properties: { ms: { type: 'integer', default: 4000 } },
      additionalProperties: false,
    },
  },
  async (ctx, value: number) => {
    count('wait');
    await sleep(ctx.config.ms, ctx.signal);
    return value * 2;
  },
);
const ignoreAbort = op<{ ms: number }, [number]>(
  {
    name: 'ignore_abort',
    ins: { value: {} },
    config: {
      type: 'object',
      properties: { ms: { type: 'integer', default: 600 } },
      additionalProperties: false,
    },
  },
  async (ctx, value: number) => {
    await sleep(ctx.config.ms);
    return value;
  },
);
const last = op({ name: 'last', ins: { value: {} } }, (_ctx, value: number) => {
  count('last');
  return value + 1;
});
export const slowJob = graph('slow_job', ({ call }) =>
  call(last, { value: call(wait, { value: call(first) }) }),
).toJob();
export const stubbornJob = graph('stubborn_job', ({ call }) =>
  call(last, { value: call(ignoreAbort, { value: call(first) }) }),
).toJob();

const second = op({ name: 'second', ins: { value: {} } }, (_ctx, value: number) => {
  count('second');
  if (control.failSecondStep) {
    throw new Error('second step is broken');
  }
  return value + 100;
});
export const fixableJob = graph('fixable_job', ({ call }) => call(second, { value: call(first) })).toJob();

/** Fails with a message PostgreSQL cannot store as is: NUL, a lone surrogate, binary bytes. */
export const BINARY_ERROR = 'cannot parse input: \u0000\u001f\u008b\u0008 then \ud800 alone';
const failBinary = op({ name: 'fail_binary' }, () => {
  throw new Error(BINARY_ERROR);
});
export const binaryFailureJob = graph('binary_failure_job', ({ call }) => call(failBinary)).toJob();

const failLong = op({ name: 'fail_long' }, () => {
  throw new Error(`long failure ${'x'.repeat(20_000)} end`);
});
export const longFailureJob = graph('long_failure_job', ({ call }) => call(failLong)).toJob();

export const dedupSensor = sensor(
  { name: 'dedup_sensor', job: noopJob, minimumIntervalSeconds: 0.05 },
  function* () {
    for (let n = 0; n < 5; n++) {
      yield runRequest({ runKey: `k${n}` });
    }
  },
);

export const cursorSensor = sensor(
  { name: 'cursor_sensor', job: noopJob, minimumIntervalSeconds: 0.2 },
  (ctx) => {
    if (control.sensorShouldFail) {
      throw new Error('the upstream system is down');
    }
    const next = Number(ctx.cursor ?? '0') + 1;
    if (next > 3) {
      return skipReason('caught up');
    }
    ctx.updateCursor(String(next));
    return runRequest({ runKey: `item-${next}` });
  },
);

export const latencySensor = sensor(
  { name: 'latency_sensor', job: noopJob, minimumIntervalSeconds: 0.25 },
  () => runRequest({ runKey: `t${Date.now()}` }),
);

export const everyMinute = schedule({ name: 'every_minute', job: noopJob, cron: '* * * * *' });

export const fixtures = repository({
  name: 'test_fixtures',
  jobs: [noopJob, flakyJob, slowJob, stubbornJob, fixableJob, binaryFailureJob, longFailureJob],
  sensors: [dedupSensor, cursorSensor, latencySensor],
  schedules: [everyMinute],
});
