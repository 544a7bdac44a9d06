import { randomUUID } from 'node:crypto';

import { serializeError, RunConfigError, type SerializedError } from './errors.js';
import { makeEvent, type OrchestratorEvent, type RunFailureReason } from './events.js';
import type { JobDefinition } from './job.js';
import { buildPlan, type ExecutionPlan, type ExecutionStep } from './plan.js';
import { openResources } from './resource.js';
import { resolveRunConfig, type ResolvedRunConfig } from './run-config.js';
import type { RunHost } from './run-host.js';
import { runStep, StepOutputs, type StepEnvironment } from './step.js';

export type { RunHost } from './run-host.js';

export interface ExecuteStepsOptions {
  readonly job: JobDefinition;
  readonly runId: string;
  readonly config: ResolvedRunConfig;
  readonly host: RunHost;
  /** Steps already done whose outputs the host can load. */
  readonly done?: Iterable<string>;
  readonly signal?: AbortSignal;
  /**
   * Instead of `signal`: a controller this execution takes as its own, aborted by the caller to cancel
   * and by the execution when the host reports cancellation. Saves following `signal` with a second
   * controller, which a run worker would otherwise pay for on every run.
   */
  readonly abortController?: AbortController;
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

type OpenedResources = Awaited<ReturnType<typeof openResources>>;

/** Where each step of a plan stands while the plan is walked. */
interface WalkState {
  readonly pending: ExecutionStep[];
  readonly done: Set<string>;
  readonly failed: Set<string>;
  /** Steps skipped because something upstream failed. */
  readonly blocked: Set<string>;
  /** The first error of each failed step, so the run's failure says what went wrong, not only where. */
  readonly stepErrors: Map<string, string>;
}

/**
 * An abort controller of this execution's own (the caller's `own` one, or a new one following the
 * caller's signal); `abort` also serves cancellation noticed through the host. `unlink` detaches it
 * from the caller's signal.
 */
function linkAbort(
  outer: AbortSignal | undefined,
  own: AbortController | undefined,
): {
  readonly signal: AbortSignal;
  readonly abort: () => void;
  readonly unlink: () => void;
} {
  if (own) {
    return { signal: own.signal, abort: () => own.abort(), unlink: () => undefined };
  }
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  outer?.addEventListener('abort', abort, { once: true });
  if (outer?.aborted) {
    abort();
  }
  return { signal: controller.signal, abort, unlink: () => outer?.removeEventListener('abort', abort) };
}

/** Opens only the resources the steps to execute need; a failure is reported as an event and rethrown. */
async function openStepResources(
  options: ExecuteStepsOptions,
  steps: readonly ExecutionStep[],
): Promise<OpenedResources> {
  const { host } = options;
  const required = new Set(steps.flatMap((s) => s.node.op.requiredResources));
  try {
    return await openResources(options.job.resources, required, {
      host: options.hostValues ?? {},
      owner: options.runId,
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
    throw error;
  }
}

/**
 * Walks the plan: starts every pending step whose upstream steps are done (up to the run's
 * concurrency), skips those below a failure, and waits for a running step to finish before looking
 * again. Checks for cancellation at every step boundary. A step that rejects (a host failure, not an
 * op failure) stops new steps from starting; its error is rethrown once the running ones settle.
 */
async function walkPlan(
  env: StepEnvironment,
  state: WalkState,
  maxConcurrent: number,
  abort: () => void,
): Promise<void> {
  const { host, signal } = env;
  const { pending, done, failed, blocked, stepErrors } = state;
  const running = new Map<string, Promise<void>>();
  let infrastructureError: unknown;
  for (;;) {
    if (!signal.aborted && host.isCanceled && (await host.isCanceled())) {
      abort();
    }
    if (!signal.aborted && infrastructureError === undefined) {
      for (let i = 0; i < pending.length && running.size < maxConcurrent;) {
        const step = pending[i] as ExecutionStep;
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
          runStep(env, step.node).then(
            (result) => {
              running.delete(step.key);
              if (result.ok) {
                done.add(step.key);
                return;
              }
              failed.add(step.key);
              if (result.error !== undefined) {
                stepErrors.set(step.key, result.error);
              }
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
  if (infrastructureError !== undefined) {
    throw infrastructureError instanceof Error
      ? infrastructureError
      : new Error(JSON.stringify(infrastructureError));
  }
}

function summarise(state: WalkState, canceled: boolean): ExecutionOutcome {
  const failed = [...state.failed];
  if (canceled) {
    return { status: 'CANCELED', failedSteps: failed };
  }
  if (failed.length > 0 || state.pending.length > 0) {
    const firstError = failed
      .filter((key) => state.stepErrors.has(key))
      .slice(0, 1)
      .map((key) => ` (${key}: ${state.stepErrors.get(key)})`)
      .join('');
    return {
      status: 'FAILURE',
      failedSteps: failed,
      reason: 'STEP_FAILURE',
      error: { name: 'StepFailure', message: `step(s) failed: ${failed.join(', ')}${firstError}` },
    };
  }
  return { status: 'SUCCESS', failedSteps: [] };
}

/**
 * Executes a job's steps in topological order with each op's retry policy, stopping at the next step
 * boundary once the run is canceled. Independent steps keep running after a failure, as in Dagster;
 * steps downstream of a failure are not executed.
 */
export async function executeSteps(options: ExecuteStepsOptions): Promise<ExecutionOutcome> {
  const { job, host, runId } = options;
  const plan: ExecutionPlan = buildPlan(job, options.done);
  const { signal, abort, unlink } = linkAbort(options.signal, options.abortController);
  const toExecute = new Set(plan.toExecute);
  const pending = plan.steps.filter((s) => toExecute.has(s.key));

  let resources: OpenedResources;
  try {
    resources = await openStepResources(options, pending);
  } catch (error) {
    unlink();
    return {
      status: 'FAILURE',
      failedSteps: [],
      reason: 'JOB_INITIALIZATION_FAILURE',
      error: serializeError(error),
    };
  }

  const state: WalkState = {
    pending,
    done: new Set(plan.reused),
    failed: new Set(),
    blocked: new Set(),
    stepErrors: new Map(),
  };
  const env: StepEnvironment = {
    job,
    runId,
    config: options.config,
    host,
    signal,
    resources: resources.values,
    outputs: new StepOutputs(host),
    ...(options.random ? { random: options.random } : {}),
  };
  try {
    await walkPlan(env, state, options.config.maxConcurrent, abort);
  } finally {
    unlink();
    await resources.close();
  }
  return summarise(state, signal.aborted);
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
