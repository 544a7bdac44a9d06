import { describe, expect, it } from 'vitest';

import { RetryRequested, RunConfigError } from './errors.js';
import { executeInProcess, executeSteps, type RunHost } from './execute.js';
import { graph } from './graph.js';
import { concurrentExecutor } from './job.js';
import { op } from './op.js';
import { resource, valueResource } from './resource.js';
import { resolveRunConfig } from './run-config.js';

describe('executeInProcess', () => {
  it('retries an op under its policy and records the retry events', async () => {
    const flaky = op(
      { name: 'flaky', retryPolicy: { maxRetries: 3, delayMs: 1, backoff: 'exponential' } },
      (ctx) => {
        if (ctx.attempt < 3) {
          throw new Error(`boom ${ctx.attempt}`);
        }
        return ctx.attempt;
      },
    );
    const job = graph('retrying', ({ call }) => call(flaky)).toJob();
    const result = await executeInProcess(job);
    expect(result.success).toBe(true);
    expect(result.output('flaky')).toBe(3);
    expect(result.events.map((e) => e.type)).toEqual([
      'RUN_START',
      'STEP_START',
      'STEP_UP_FOR_RETRY',
      'STEP_RESTARTED',
      'STEP_UP_FOR_RETRY',
      'STEP_RESTARTED',
      'STEP_OUTPUT',
      'STEP_SUCCESS',
      'RUN_SUCCESS',
    ]);
    const delays = result.events.filter((e) => e.type === 'STEP_UP_FOR_RETRY').map((e) => e.data?.delayMs);
    expect(delays).toEqual([1, 3]);
  });

  it('fails the step once retries are exhausted and skips what depends on it', async () => {
    const broken = op({ name: 'broken', retryPolicy: { maxRetries: 1 } }, () => {
      throw new Error('always');
    });
    const after = op({ name: 'after', ins: { x: {} } }, () => 1);
    const independent = op({ name: 'independent' }, () => 2);
    const job = graph('failing', ({ call }) => {
      call(after, { x: call(broken) });
      call(independent);
    }).toJob();
    const result = await executeInProcess(job);
    expect(result.status).toBe('FAILURE');
    expect(result.failedSteps).toEqual(['broken']);
    expect(result.output('independent')).toBe(2);
    expect(result.outputs.after).toBeUndefined();
    expect(result.events.at(-1)?.type).toBe('RUN_FAILURE');
  });

  it('honours RetryRequested from the op', async () => {
    let calls = 0;
    const manual = op({ name: 'manual' }, () => {
      calls++;
      if (calls === 1) {
        throw new RetryRequested(2, 0);
      }
      return 'ok';
    });
    const result = await executeInProcess(graph('manual_retry', ({ call }) => call(manual)).toJob());
    expect(result.success).toBe(true);
    expect(calls).toBe(2);
  });

  it('cancels through the AbortSignal; an op ignoring it fails at the next step boundary', async () => {
    const controller = new AbortController();
    const stubborn = op({ name: 'stubborn' }, async () => {
      controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 5));
      return 1;
    });
    const next = op({ name: 'next', ins: { x: {} } }, () => 2);
    const job = graph('cancelled', ({ call }) => call(next, { x: call(stubborn) })).toJob();
    const result = await executeInProcess(job, { signal: controller.signal });
    expect(result.status).toBe('CANCELED');
    const failure = result.events.find((e) => e.type === 'STEP_FAILURE');
    expect(failure).toMatchObject({ stepKey: 'stubborn', data: { interrupted: true } });
    expect(result.events.some((e) => e.stepKey === 'next')).toBe(false);
    expect(result.events.slice(-2).map((e) => e.type)).toEqual(['RUN_CANCELING', 'RUN_CANCELED']);
  });

  it('builds resources from config, passes them to ops and tears them down', async () => {
    const torn: string[] = [];
    const counter = resource<{ prefix: string }, { prefix: string }>({
      config: { type: 'object', properties: { prefix: { type: 'string' } }, required: ['prefix'] },
      setup: ({ config }) => ({ prefix: config.prefix }),
      teardown: (value) => {
        torn.push(value.prefix);
      },
    });
    const greet = op({ name: 'greet', requiredResources: ['counter'] }, (ctx) => {
      const value = ctx.resources.counter as { prefix: string };
      ctx.log.info('greeting');
      return `${value.prefix}!`;
    });
    const job = graph('with_resource', ({ call }) => call(greet)).toJob({ resources: { counter } });
    await expect(executeInProcess(job)).rejects.toThrow(/resources.counter.config: is required/);
    const result = await executeInProcess(job, {
      runConfig: { resources: { counter: { config: { prefix: 'hi' } } } },
    });
    expect(result.output('greet')).toBe('hi!');
    expect(torn).toEqual(['hi']);
    expect(result.events.some((e) => e.type === 'LOGS' && e.message === 'greeting')).toBe(true);
    const overridden = await executeInProcess(job, {
      runConfig: { resources: { counter: { config: { prefix: 'x' } } } },
      resources: { counter: valueResource({ prefix: 'mock' }) },
    });
    expect(overridden.output('greet')).toBe('mock!');
  });

  it('names every bad key of the run config', async () => {
    const configured = op(
      {
        name: 'configured',
        config: {
          type: 'object',
          properties: { n: { type: 'integer' }, label: { type: 'string' } },
          required: ['n'],
          additionalProperties: false,
        },
      },
      (ctx) => ctx.config,
    );
    const job = graph('cfg', ({ call }) => call(configured)).toJob();
    const error = await executeInProcess(job, {
      runConfig: { ops: { configured: { config: { label: 3, extra: true } }, ghost: {} }, nope: 1 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunConfigError);
    const paths = (error as RunConfigError).problems.map((p) => p.path).sort();
    expect(paths).toEqual([
      'nope',
      'ops.configured.config.extra',
      'ops.configured.config.label',
      'ops.configured.config.n',
      'ops.ghost',
    ]);
  });

  it('runs independent steps concurrently with a concurrent executor', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = op({ name: 'slow' }, async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
      return 1;
    });
    const job = graph('parallel', ({ call }) => {
      call(slow);
      call(slow);
      call(slow);
    }).toJob({ executor: concurrentExecutor({ maxConcurrent: 3 }) });
    await executeInProcess(job);
    expect(peak).toBe(3);
    peak = 0;
    await executeInProcess(job, { runConfig: { execution: { config: { maxConcurrent: 1 } } } });
    expect(peak).toBe(1);
  });
});

describe('executeSteps given an abort controller of the caller', () => {
  const memoryHost = (canceled: () => boolean): RunHost => ({
    record: () => undefined,
    flush: () => Promise.resolve(),
    commitStep: () => Promise.resolve(),
    loadOutput: () => Promise.resolve(undefined),
    isCanceled: () => Promise.resolve(canceled()),
  });
  const twoSteps = (first: () => unknown) =>
    graph('two_steps', ({ call }) =>
      call(
        op({ name: 'second', ins: { x: {} } }, () => 2),
        { x: call(op({ name: 'first' }, first)) },
      ),
    ).toJob();
  const run = (job: ReturnType<typeof twoSteps>, host: RunHost, abortController: AbortController) => {
    const { config } = resolveRunConfig(job, {});
    return executeSteps({ job, runId: 'r1', config: config!, host, abortController });
  };

  it('is canceled when the caller aborts the controller', async () => {
    const controller = new AbortController();
    const job = twoSteps(() => {
      controller.abort();
      return 1;
    });
    const outcome = await run(
      job,
      memoryHost(() => false),
      controller,
    );
    expect(outcome.status).toBe('CANCELED');
  });

  it('aborts the controller when the host reports the run canceled', async () => {
    const controller = new AbortController();
    let canceled = false;
    const job = twoSteps(() => {
      canceled = true;
      return 1;
    });
    const outcome = await run(
      job,
      memoryHost(() => canceled),
      controller,
    );
    expect(outcome.status).toBe('CANCELED');
    expect(controller.signal.aborted).toBe(true);
  });
});
