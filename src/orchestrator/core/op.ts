import { compileConfigSchema, type CompiledConfigSchema, type ConfigSchema } from './config-schema.js';
import { checkName, DefinitionError } from './errors.js';
import type { LogLevel } from './events.js';
import { checkRetryPolicy, type RetryPolicy } from './retry.js';

export interface InputDefinition {
  readonly description?: string;
  /** An optional input may be left unwired; the op then receives `undefined` for it. */
  readonly optional?: boolean;
}

export interface OutputDefinition {
  readonly description?: string;
}

export interface OpLogger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warning(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export interface AssetMaterialization {
  readonly assetKey: string;
  readonly description?: string;
  readonly metadata?: Record<string, unknown>;
}

/** What an op function receives besides its inputs. */
export interface OpContext<TConfig = Record<string, unknown>> {
  readonly runId: string;
  /** The node's name in its graph (the step key), which differs from the op's name when aliased. */
  readonly opName: string;
  readonly config: TConfig;
  readonly resources: Readonly<Record<string, unknown>>;
  readonly log: OpLogger;
  /** Aborted when the run is canceled; long-running ops should listen to it. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Records an ASSET_MATERIALIZATION event for this step. */
  materialize(materialization: AssetMaterialization): void;
}

export type OpFunction = (context: OpContext<never>, ...inputs: never[]) => unknown;

export interface OpOptions {
  readonly name: string;
  readonly description?: string;
  /** Inputs in the order the op function receives them after its context. */
  readonly ins?: Readonly<Record<string, InputDefinition>>;
  /** Defaults to one output named `result`. With several outputs the function returns an object keyed by name. */
  readonly outs?: Readonly<Record<string, OutputDefinition>>;
  /** JSON Schema of `ops.<node>.config`. */
  readonly config?: ConfigSchema;
  readonly requiredResources?: readonly string[];
  readonly retryPolicy?: RetryPolicy;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface OpDefinition {
  readonly kind: 'op';
  readonly name: string;
  readonly description?: string;
  readonly ins: Readonly<Record<string, InputDefinition>>;
  readonly outs: Readonly<Record<string, OutputDefinition>>;
  readonly config?: CompiledConfigSchema;
  readonly requiredResources: readonly string[];
  readonly retryPolicy?: RetryPolicy;
  readonly tags: Readonly<Record<string, string>>;
  readonly fn: (context: OpContext<unknown>, ...inputs: unknown[]) => unknown;
}

export const DEFAULT_OUTPUT = 'result';

/**
 * Defines an op. `fn(ctx, ...inputs)` gets its inputs in the order of `ins`; it may be async and returns
 * its output value (or an object keyed by output name when the op declares several outputs).
 */
export function op<TConfig = Record<string, unknown>, TInputs extends unknown[] = unknown[]>(
  options: OpOptions,
  fn: (context: OpContext<TConfig>, ...inputs: TInputs) => unknown,
): OpDefinition {
  const problems = [...checkName('op', options.name)];
  const ins = options.ins ?? {};
  const outs = options.outs ?? { [DEFAULT_OUTPUT]: {} };
  for (const name of [...Object.keys(ins), ...Object.keys(outs)]) {
    problems.push(...checkName('input/output', name));
  }
  if (Object.keys(outs).length === 0) {
    problems.push('an op needs at least one output (omit `outs` for the default `result`)');
  }
  problems.push(...checkRetryPolicy(options.retryPolicy, 'retryPolicy'));
  if (typeof fn !== 'function') {
    problems.push('the op function is missing');
  }
  let config: CompiledConfigSchema | undefined;
  if (options.config) {
    try {
      config = compileConfigSchema(options.config);
    } catch (error) {
      problems.push(`config schema does not compile: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) {
    throw new DefinitionError(`op "${String(options.name)}"`, problems);
  }
  return Object.freeze({
    kind: 'op' as const,
    name: options.name,
    ...(options.description ? { description: options.description } : {}),
    ins,
    outs,
    ...(config ? { config } : {}),
    requiredResources: [...(options.requiredResources ?? [])],
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    tags: { ...(options.tags ?? {}) },
    fn: fn as unknown as OpDefinition['fn'],
  });
}

export type { LogLevel };
