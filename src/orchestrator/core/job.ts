import { checkName, DefinitionError } from './errors.js';
import type { GraphDefinition } from './graph.js';
import type { ResourceDefinition } from './resource.js';
import { checkRetryPolicy, type RetryPolicy } from './retry.js';
import { checkRunConfigShape, type RunConfig } from './run-config.js';

/**
 * How steps of one run execute inside the run worker: one at a time (Dagster's in_process executor) or up
 * to `maxConcurrent` independent steps at once.
 */
export interface ExecutorDefinition {
  readonly name: string;
  readonly maxConcurrent: number;
}

export function inProcessExecutor(): ExecutorDefinition {
  return { name: 'in_process', maxConcurrent: 1 };
}

export function concurrentExecutor(options: { maxConcurrent: number }): ExecutorDefinition {
  return { name: 'concurrent', maxConcurrent: options.maxConcurrent };
}

export interface JobOptions {
  /** Defaults to the graph's name. */
  readonly name?: string;
  readonly description?: string;
  readonly resources?: Readonly<Record<string, ResourceDefinition>>;
  /** Default run config; a launch's run config is merged over it. */
  readonly config?: RunConfig;
  readonly tags?: Readonly<Record<string, string>>;
  readonly executor?: ExecutorDefinition;
  /** Retry policy for every op that has none of its own (Dagster's op_retry_policy). */
  readonly opRetryPolicy?: RetryPolicy;
}

export interface JobDefinition {
  readonly kind: 'job';
  readonly name: string;
  readonly description?: string;
  readonly graph: GraphDefinition;
  readonly resources: Readonly<Record<string, ResourceDefinition>>;
  readonly config: RunConfig;
  readonly tags: Readonly<Record<string, string>>;
  readonly executor: ExecutorDefinition;
  readonly opRetryPolicy?: RetryPolicy;
}

/** The resource keys the job's ops require that the job does not define. */
export function missingResources(job: JobDefinition, available: Iterable<string> = []): string[] {
  const known = new Set([...Object.keys(job.resources), ...available]);
  const missing = new Set<string>();
  for (const node of job.graph.nodes) {
    for (const key of node.op.requiredResources) {
      if (!known.has(key)) {
        missing.add(`${key} (needed by ${node.name})`);
      }
    }
  }
  return [...missing];
}

export function createJob(graphDef: GraphDefinition, options: JobOptions): JobDefinition {
  const name = options.name ?? graphDef.name;
  const problems = [...checkName('job', name), ...checkRetryPolicy(options.opRetryPolicy, 'opRetryPolicy')];
  const executor = options.executor ?? inProcessExecutor();
  if (!Number.isInteger(executor.maxConcurrent) || executor.maxConcurrent < 1) {
    problems.push('executor.maxConcurrent must be a positive integer');
  }
  for (const [key, def] of Object.entries(options.resources ?? {})) {
    if (!def || def.kind !== 'resource') {
      problems.push(`resources.${key} is not a resource definition`);
    }
  }
  const job: JobDefinition = Object.freeze({
    kind: 'job' as const,
    name,
    ...(options.description || graphDef.description
      ? { description: options.description ?? graphDef.description }
      : {}),
    graph: graphDef,
    resources: { ...(options.resources ?? {}) },
    config: options.config ?? {},
    tags: { ...graphDef.tags, ...(options.tags ?? {}) },
    executor,
    ...(options.opRetryPolicy ? { opRetryPolicy: options.opRetryPolicy } : {}),
  });
  problems.push(...checkRunConfigShape(job, job.config).map((p) => `config.${p.path}: ${p.message}`));
  if (problems.length > 0) {
    throw new DefinitionError(`job "${name}"`, problems);
  }
  return job;
}

/** The job with extra resources for keys it does not define itself (repository-wide resources). */
export function withDefaultResources(
  job: JobDefinition,
  resources: Readonly<Record<string, ResourceDefinition>>,
): JobDefinition {
  return Object.freeze({ ...job, resources: { ...resources, ...job.resources } });
}
