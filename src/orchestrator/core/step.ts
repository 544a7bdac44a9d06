import { serializeError, RetryRequested, StepInterrupted } from './errors.js';
import { makeEvent, type LogLevel } from './events.js';
import type { GraphNode } from './graph.js';
import type { JobDefinition } from './job.js';
import type { OpContext, OpLogger } from './op.js';
import { retryDelayMs, type RetryPolicy } from './retry.js';
import type { ResolvedRunConfig } from './run-config.js';
import type { RunHost } from './run-host.js';

const MAX_OUTPUT_PREVIEW_BYTES = 2048;

/**
 * Step outputs by `step.output`. Outputs of steps this execution ran are kept as they are produced;
 * outputs of earlier executions are loaded from the host once, on first use.
 */
export class StepOutputs {
  private readonly values = new Map<string, unknown>();

  constructor(private readonly host: RunHost) {}

  async load(stepKey: string, output: string): Promise<unknown> {
    const key = `${stepKey}.${output}`;
    if (!this.values.has(key)) {
      this.values.set(key, await this.host.loadOutput(stepKey, output));
    }
    return this.values.get(key);
  }

  keep(stepKey: string, output: string, value: unknown): void {
    this.values.set(`${stepKey}.${output}`, value);
  }
}

/** What every step of one execution shares. */
export interface StepEnvironment {
  readonly job: JobDefinition;
  readonly runId: string;
  readonly config: ResolvedRunConfig;
  readonly host: RunHost;
  readonly signal: AbortSignal;
  readonly resources: Readonly<Record<string, unknown>>;
  readonly outputs: StepOutputs;
  readonly random?: () => number;
}

/** `error` is the op's own failure message; interrupted steps have none. */
export type StepResult = { readonly ok: true } | { readonly ok: false; readonly error?: string };

type FailureDecision = { readonly retry: true } | { readonly retry: false; readonly result: StepResult };

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

/** The op's positional arguments: one value per declared input, a list for fan-in inputs. */
async function gatherInputs(env: StepEnvironment, node: GraphNode): Promise<unknown[]> {
  const inputs: unknown[] = [];
  for (const input of Object.keys(node.op.ins)) {
    const wiring = node.inputs[input];
    if (!wiring) {
      inputs.push(undefined);
      continue;
    }
    const values = await Promise.all(wiring.sources.map((s) => env.outputs.load(s.node, s.output)));
    inputs.push(wiring.fanIn ? values : values[0]);
  }
  return inputs;
}

function opContext(
  env: StepEnvironment,
  node: GraphNode,
  resources: Readonly<Record<string, unknown>>,
  attempt: number,
): OpContext<unknown> {
  const stepKey = node.name;
  const { host } = env;
  return {
    runId: env.runId,
    opName: stepKey,
    config: env.config.ops[stepKey] ?? {},
    resources,
    signal: env.signal,
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
}

/** Runs the op once; a cancellation before or during the call surfaces as StepInterrupted. */
async function attemptOp(
  env: StepEnvironment,
  node: GraphNode,
  inputs: readonly unknown[],
  context: OpContext<unknown>,
): Promise<Record<string, unknown>> {
  if (env.signal.aborted) {
    throw new StepInterrupted();
  }
  const returned = await node.op.fn(context, ...inputs);
  if (env.signal.aborted) {
    throw new StepInterrupted('the run was canceled while the op ran; its result is discarded');
  }
  return normaliseOutputs(node, returned);
}

/**
 * Decides what a failed attempt leads to: an interruption, a retry after the policy's (or the op's
 * requested) delay, or the step's failure. Waiting for a retry is itself interruptible.
 */
async function handleFailedAttempt(
  env: StepEnvironment,
  stepKey: string,
  policy: RetryPolicy | undefined,
  attempt: number,
  error: unknown,
): Promise<FailureDecision> {
  const { host, signal } = env;
  if (signal.aborted || error instanceof StepInterrupted) {
    host.record(
      makeEvent('STEP_FAILURE', `Step "${stepKey}" was interrupted: the run was canceled.`, {
        stepKey,
        data: { error: serializeError(error), interrupted: true, attempt },
      }),
    );
    return { retry: false, result: { ok: false } };
  }
  const requested = error instanceof RetryRequested;
  const maxRetries = requested ? error.maxRetries : (policy?.maxRetries ?? 0);
  if (attempt > maxRetries) {
    const message = (error as Error).message ?? String(error);
    host.record(
      makeEvent('STEP_FAILURE', `Step "${stepKey}" failed: ${message}`, {
        stepKey,
        data: { error: serializeError(error), attempt },
      }),
    );
    return { retry: false, result: { ok: false, error: message } };
  }
  const delayMs = requested ? error.delayMs : retryDelayMs(policy as RetryPolicy, attempt, env.random);
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
    return { retry: false, result: { ok: false } };
  }
  host.record(
    makeEvent('STEP_RESTARTED', `Started re-execution (attempt ${attempt + 1}) of step "${stepKey}".`, {
      stepKey,
      data: { attempt: attempt + 1 },
    }),
  );
  return { retry: true };
}

/** Records each output, keeps it for downstream steps, then commits the step with its outputs. */
async function completeStep(
  env: StepEnvironment,
  stepKey: string,
  outputs: Readonly<Record<string, unknown>>,
  started: number,
  attempt: number,
): Promise<void> {
  const { host } = env;
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
    env.outputs.keep(stepKey, output, value);
  }
  host.record(
    makeEvent('STEP_SUCCESS', `Finished execution of step "${stepKey}" in ${Date.now() - started} ms.`, {
      stepKey,
      data: { durationMs: Date.now() - started, attempt },
    }),
  );
  await host.commitStep(stepKey, outputs);
}

/**
 * Runs one step to its end: gathers its inputs, attempts the op under its retry policy (the node's,
 * else the op's, else the job's) and commits its outputs. Host failures (flush, commit, loading inputs)
 * are not step failures: they reject.
 */
export async function runStep(env: StepEnvironment, node: GraphNode): Promise<StepResult> {
  const stepKey = node.name;
  const started = Date.now();
  env.host.record(makeEvent('STEP_START', `Started execution of step "${stepKey}".`, { stepKey }));
  const inputs = await gatherInputs(env, node);
  const policy: RetryPolicy | undefined = node.retryPolicy ?? node.op.retryPolicy ?? env.job.opRetryPolicy;
  const resources: Record<string, unknown> = {};
  for (const key of node.op.requiredResources) {
    resources[key] = env.resources[key];
  }
  for (let attempt = 1; ; attempt++) {
    let outputs: Record<string, unknown>;
    try {
      outputs = await attemptOp(env, node, inputs, opContext(env, node, resources, attempt));
    } catch (error) {
      const decision = await handleFailedAttempt(env, stepKey, policy, attempt, error);
      if (decision.retry) {
        continue;
      }
      return decision.result;
    }
    await completeStep(env, stepKey, outputs, started, attempt);
    return { ok: true };
  }
}
