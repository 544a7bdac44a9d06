import { randomUUID } from 'node:crypto';

import {
  serializeError,
  RetryRequested,
  RunConfigError,
  StepInterrupted,
  type SerializedError,
} from './errors.js';
import { makeEvent, type LogLevel, type OrchestratorEvent, type RunFailureReason } from './events.js';
import type { GraphNode } from './graph.js';
import type { JobDefinition } from './job.js';
import type { OpContext, OpLogger } from './op.js';
import { buildPlan } from './plan.js';
import { openResources } from './resource.js';
import { retryDelayMs, type RetryPolicy } from './retry.js';
import { resolveRunConfig, type ResolvedRunConfig } from './run-config.js';

/**
 * Where an execution records what happens. The in-process executor keeps everything in memory; the run
 * worker writes to PostgreSQL. Events are recorded synchronously (ops log from synchronous code) and
 * written when the host flushes.
 */
export interface RunHost {
  record(event: OrchestratorEvent): void;
  /** Writes every recorded event. */
  flush(): Promise<void>;
  /** Writes the recorded events and the step's outputs together, so a step is either done or not. */
  commitStep(stepKey: string, outputs: Readonly<Record<string, unknown>>): Promise<void>;
  /** The stored output of a step this execution did not run. */
  loadOutput(stepKey: string, output: string): Promise<unknown>;
  /** Checked at every step boundary: true when the run was canceled elsewhere. */
  isCanceled?(): Promise<boolean>;
}

export interface ExecuteStepsOptions {
  readonly job: JobDefinition;
  readonly runId: string;
  readonly config: ResolvedRunConfig;
  readonly host: RunHost;
  /** Steps already done whose outputs the host can load. */
  readonly done?: Iterable<string>;
  readonly signal?: AbortSignal;
  /** Values `hostResource(key)` resolves to. */
  readonly hostValues?: Readonly<Record<string, unknown>>;
  /** Resource values (or definitions) replacing the job's, by key. */
  readonly resourceOverrides?: Readonly<Record<string, unknown>>;
  readonly random?: () => number;
}

export interface ExecutionOutcome {
  readonly status: 'SUCCESS' | 'FAILURE' | 'CANCELED';
  readonly failedSteps: readonly string[];
  readonly reason?: RunFailureReason;
  readonly error?: SerializedError;
}

const MAX_OUTPUT_PREVIEW_BYTES = 2048;

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new StepInterrupted());
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new StepInterrupted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Outputs are stored as JSON (PostgreSQL JSONB), so they must survive a JSON round trip. */
function toJson(value: unknown, where: string): unknown {
  if (value === undefined) {
    return null;
  }
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch (error) {
    throw new Error(`${where} is not JSON-serialisable: ${(error as Error).message}`, { cause: error });
  }
}

function makeLogger(
  record: (level: LogLevel, message: string, data?: Record<string, unknown>) => void,
): OpLogger {
  return {
    debug: (message, data) => record('debug', message, data),
    info: (message, data) => record('info', message, data),
    warning: (message, data) => record('warning', message, data),
    error: (message, data) => record('error', message, data),
  };
}

function normaliseOutputs(node: GraphNode, returned: unknown): Record<string, unknown> {
  const names = Object.keys(node.op.outs);
  if (names.length === 1) {
    return { [names[0] as string]: toJson(returned, `output "${names[0]}" of ${node.name}`) };
  }
  if (typeof returned !== 'object' || returned === null) {
    throw new Error(
      `op "${node.op.name}" declares outputs ${names.join(', ')}; return an object keyed by them`,
    );
  }
  const outputs: Record<string, unknown> = {};
  const missing = names.filter((n) => !(n in returned));
  if (missing.length > 0) {
    throw new Error(`op "${node.op.name}" did not return output(s) ${missing.join(', ')}`);
  }
  for (const name of names) {
    outputs[name] = toJson((returned as Record<string, unknown>)[name], `output "${name}" of ${node.name}`);
  }
  return outputs;
}

/**
 * Executes a job's steps in topological order with each op's retry policy, stopping at the next step
 * boundary once the run is canceled. Independent steps keep running after a failure, as in Dagster;
 * steps downstream of a failure are not executed.
 */
export async function executeSteps(options: ExecuteStepsOptions): Promise<ExecutionOutcome> {
  const { job, host, runId } = options;
  const plan = buildPlan(job, options.done);
  const controller = new AbortController();
  const signal = controller.signal;
  const abort = (): void => controller.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  if (options.signal?.aborted) {
    abort();
  }

  const toExecute = new Set(plan.toExecute);
  const requiredResources = new Set(
    plan.steps.filter((s) => toExecute.has(s.key)).flatMap((s) => s.node.op.requiredResources),
  );
  let resources: Awaited<ReturnType<typeof openResources>>;
  try {
    resources = await openResources(job.resources, requiredResources, {
      host: options.hostValues ?? {},
      owner: runId,
      configs: options.config.resources,
      ...(options.resourceOverrides ? { overrides: options.resourceOverrides } : {}),
      onTeardownError: (key, error) =>
        host.record(
          makeEvent('ENGINE_EVENT', `teardown of resource "${key}" failed: ${(error as Error).message}`, {
            level: 'warning',
            data: { error: serializeError(error) },
          }),
        ),
    });
  } catch (error) {
    host.record(
      makeEvent('ENGINE_EVENT', `resource initialisation failed: ${(error as Error).message}`, {
        level: 'error',
        data: { error: serializeError(error) },
      }),
    );
    options.signal?.removeEventListener('abort', abort);
    return {
      status: 'FAILURE',
      failedSteps: [],
      reason: 'JOB_INITIALIZATION_FAILURE',
      error: serializeError(error),
    };
  }

  const done = new Set(plan.reused);
  const failed = new Set<string>();
  // The first error of each failed step, so the run's failure says what went wrong, not only where.
  const stepErrors = new Map<string, string>();
  const blocked = new Set<string>();
  const cache = new Map<string, unknown>();
  const loadInput = async (stepKey: string, output: string): Promise<unknown> => {
    const key = `${stepKey}.${output}`;
    if (!cache.has(key)) {
      cache.set(key, await host.loadOutput(stepKey, output));
    }
    return cache.get(key);
  };

  const runStep = async (node: GraphNode): Promise<boolean> => {
    const stepKey = node.name;
    const started = Date.now();
    host.record(makeEvent('STEP_START', `Started execution of step "${stepKey}".`, { stepKey }));
    const inputs: unknown[] = [];
    for (const input of Object.keys(node.op.ins)) {
      const wiring = node.inputs[input];
      if (!wiring) {
        inputs.push(undefined);
        continue;
      }
      const values = await Promise.all(wiring.sources.map((s) => loadInput(s.node, s.output)));
      inputs.push(wiring.fanIn ? values : values[0]);
    }
    const policy: RetryPolicy | undefined = node.retryPolicy ?? node.op.retryPolicy ?? job.opRetryPolicy;
    const opResources: Record<string, unknown> = {};
    for (const key of node.op.requiredResources) {
      opResources[key] = resources.values[key];
    }
    for (let attempt = 1; ; attempt++) {
      const context: OpContext<unknown> = {
        runId,
        opName: stepKey,
        config: options.config.ops[stepKey] ?? {},
        resources: opResources,
        signal,
        attempt,
        log: makeLogger((level, message, data) =>
          host.record(makeEvent('LOGS', message, { stepKey, level, ...(data ? { data } : {}) })),
        ),
        materialize: (m) =>
          host.record(
            makeEvent('ASSET_MATERIALIZATION', m.description ?? `Materialized asset "${m.assetKey}".`, {
              stepKey,
              assetKey: m.assetKey,
              data: { metadata: m.metadata ?? {} },
            }),
          ),
      };
      let outputs: Record<string, unknown>;
      try {
        if (signal.aborted) {
          throw new StepInterrupted();
        }
        const returned = await node.op.fn(context, ...inputs);
        if (signal.aborted) {
          throw new StepInterrupted('the run was canceled while the op ran; its result is discarded');
        }
        outputs = normaliseOutputs(node, returned);
      } catch (error) {
        if (signal.aborted || error instanceof StepInterrupted) {
          host.record(
            makeEvent('STEP_FAILURE', `Step "${stepKey}" was interrupted: the run was canceled.`, {
              stepKey,
              data: { error: serializeError(error), interrupted: true, attempt },
            }),
          );
          return false;
        }
        const requested = error instanceof RetryRequested;
        const maxRetries = requested ? error.maxRetries : (policy?.maxRetries ?? 0);
        if (attempt <= maxRetries) {
          const delayMs = requested
            ? error.delayMs
            : retryDelayMs(policy as RetryPolicy, attempt, options.random);
          host.record(
            makeEvent(
              'STEP_UP_FOR_RETRY',
              `Step "${stepKey}" failed (attempt ${attempt} of ${maxRetries + 1}) and will be retried in ${delayMs} ms: ${(error as Error).message}`,
              {
                stepKey,
                level: 'warning',
                data: { attempt, maxRetries, delayMs, error: serializeError(error) },
              },
            ),
          );
          await host.flush();
          try {
            await abortableSleep(delayMs, signal);
          } catch (interrupted) {
            host.record(
              makeEvent('STEP_FAILURE', `Step "${stepKey}" was interrupted while waiting to retry.`, {
                stepKey,
                data: { error: serializeError(interrupted), interrupted: true, attempt },
              }),
            );
            return false;
          }
          host.record(
            makeEvent(
              'STEP_RESTARTED',
              `Started re-execution (attempt ${attempt + 1}) of step "${stepKey}".`,
              {
                stepKey,
                data: { attempt: attempt + 1 },
              },
            ),
          );
          continue;
        }
        stepErrors.set(stepKey, (error as Error).message ?? String(error));
        host.record(
          makeEvent(
            'STEP_FAILURE',
            `Step "${stepKey}" failed: ${(error as Error).message ?? String(error)}`,
            {
              stepKey,
              data: { error: serializeError(error), attempt },
            },
          ),
        );
        return false;
      }
      for (const [output, value] of Object.entries(outputs)) {
        const text = JSON.stringify(value);
        host.record(
          makeEvent('STEP_OUTPUT', `Yielded output "${output}" of step "${stepKey}".`, {
            stepKey,
            level: 'debug',
            data: {
              output,
              bytes: Buffer.byteLength(text),
              ...(text.length <= MAX_OUTPUT_PREVIEW_BYTES ? { value } : {}),
            },
          }),
        );
        cache.set(`${stepKey}.${output}`, value);
      }
      host.record(
        makeEvent('STEP_SUCCESS', `Finished execution of step "${stepKey}" in ${Date.now() - started} ms.`, {
          stepKey,
          data: { durationMs: Date.now() - started, attempt },
        }),
      );
      await host.commitStep(stepKey, outputs);
      return true;
    }
  };

  const pending = plan.steps.filter((s) => toExecute.has(s.key));
  const running = new Map<string, Promise<void>>();
  let infrastructureError: unknown;
  try {
    for (;;) {
      if (!signal.aborted && host.isCanceled && (await host.isCanceled())) {
        abort();
      }
      if (!signal.aborted && infrastructureError === undefined) {
        for (let i = 0; i < pending.length && running.size < options.config.maxConcurrent;) {
          const step = pending[i] as (typeof pending)[number];
          if (step.upstream.some((u) => failed.has(u) || blocked.has(u))) {
            pending.splice(i, 1);
            blocked.add(step.key);
            host.record(
              makeEvent('ENGINE_EVENT', `Skipped step "${step.key}": an upstream step failed.`, {
                stepKey: step.key,
                level: 'warning',
              }),
            );
            continue;
          }
          if (!step.upstream.every((u) => done.has(u))) {
            i++;
            continue;
          }
          pending.splice(i, 1);
          running.set(
            step.key,
            runStep(step.node).then(
              (ok) => {
                running.delete(step.key);
                (ok ? done : failed).add(step.key);
              },
              (error: unknown) => {
                running.delete(step.key);
                failed.add(step.key);
                infrastructureError ??= error;
              },
            ),
          );
        }
      }
      if (running.size === 0) {
        break;
      }
      await Promise.race(running.values());
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    await resources.close();
  }
  if (infrastructureError !== undefined) {
    throw infrastructureError instanceof Error
      ? infrastructureError
      : new Error(JSON.stringify(infrastructureError));
  }
  if (signal.aborted) {
    return { status: 'CANCELED', failedSteps: [...failed] };
  }
  if (failed.size > 0 || pending.length > 0) {
    return {
      status: 'FAILURE',
      failedSteps: [...failed],
      reason: 'STEP_FAILURE',
      error: {
        name: 'StepFailure',
        message: `step(s) failed: ${[...failed].join(', ')}${[...failed]
          .filter((key) => stepErrors.has(key))
          .slice(0, 1)
          .map((key) => ` (${key}: ${stepErrors.get(key)})`)
          .join('')}`,
      },
    };
  }
  return { status: 'SUCCESS', failedSteps: [] };
}

export interface ExecuteInProcessOptions {
  readonly runConfig?: unknown;
  /** Resource values (or definitions) replacing the job's, by key. */
  readonly resources?: Readonly<Record<string, unknown>>;
  /** Values for `hostResource(key)` resources. */
  readonly host?: Readonly<Record<string, unknown>>;
  readonly runId?: string;
  readonly signal?: AbortSignal;
  /** Called for every event as it happens (the CLI prints them live). */
  readonly onEvent?: (event: OrchestratorEvent) => void;
  readonly random?: () => number;
}

export interface ExecuteInProcessResult {
  readonly runId: string;
  readonly status: ExecutionOutcome['status'];
  readonly success: boolean;
  readonly events: readonly OrchestratorEvent[];
  readonly failedSteps: readonly string[];
  readonly error?: SerializedError;
  /** Every step's outputs, by step key then output name. */
  readonly outputs: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** One step's output (its only output unless named). */
  output(stepKey: string, output?: string): unknown;
}

/**
 * Executes a job in this process without PostgreSQL or Redis, producing the same events as a run
 * worker (Dagster's `execute_in_process`). Invalid run config throws a RunConfigError naming every
 * bad key; op failures are reported in the result.
 */
export async function executeInProcess(
  job: JobDefinition,
  options: ExecuteInProcessOptions = {},
): Promise<ExecuteInProcessResult> {
  const { config, problems } = resolveRunConfig(job, options.runConfig);
  if (!config) {
    throw new RunConfigError(job.name, problems);
  }
  const runId = options.runId ?? randomUUID();
  const events: OrchestratorEvent[] = [];
  const outputs: Record<string, Record<string, unknown>> = {};
  const emit = (event: OrchestratorEvent): void => {
    events.push(event);
    options.onEvent?.(event);
  };
  const host: RunHost = {
    record: emit,
    flush: () => Promise.resolve(),
    commitStep: (stepKey, values) => {
      outputs[stepKey] = { ...values };
      return Promise.resolve();
    },
    loadOutput: (stepKey, output) => Promise.resolve(outputs[stepKey]?.[output]),
  };
  emit(makeEvent('RUN_START', `Started execution of run for "${job.name}".`, { data: { inProcess: true } }));
  const outcome = await executeSteps({
    job,
    runId,
    config,
    host,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.host ? { hostValues: options.host } : {}),
    ...(options.resources ? { resourceOverrides: options.resources } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  if (outcome.status === 'SUCCESS') {
    emit(makeEvent('RUN_SUCCESS', `Finished execution of run for "${job.name}".`));
  } else if (outcome.status === 'CANCELED') {
    emit(makeEvent('RUN_CANCELING', 'Canceling the run.'));
    emit(makeEvent('RUN_CANCELED', `Execution of run for "${job.name}" was canceled.`));
  } else {
    emit(
      makeEvent('RUN_FAILURE', `Execution of run for "${job.name}" failed: ${outcome.error?.message ?? ''}`, {
        data: { reason: outcome.reason, failedSteps: outcome.failedSteps },
      }),
    );
  }
  return {
    runId,
    status: outcome.status,
    success: outcome.status === 'SUCCESS',
    events,
    failedSteps: outcome.failedSteps,
    ...(outcome.error ? { error: outcome.error } : {}),
    outputs,
    output(stepKey, output) {
      const values = outputs[stepKey] ?? {};
      return output === undefined ? Object.values(values)[0] : values[output];
    },
  };
}
