import { acceptsEmptyConfig } from './config-schema.js';
import type { ConfigProblem } from './errors.js';
import type { JobDefinition } from './job.js';

/** Dagster's run config: `ops.<node>.config`, `resources.<key>.config`, `execution.config`. */
export interface RunConfig {
  readonly ops?: Readonly<Record<string, { readonly config?: unknown }>>;
  readonly resources?: Readonly<Record<string, { readonly config?: unknown }>>;
  readonly execution?: { readonly config?: { readonly maxConcurrent?: number } };
}

/** Run config checked against every schema, with defaults filled in. */
export interface ResolvedRunConfig {
  readonly raw: RunConfig;
  readonly ops: Readonly<Record<string, unknown>>;
  readonly resources: Readonly<Record<string, unknown>>;
  readonly maxConcurrent: number;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Deep-merges plain objects; `override` wins. Arrays and scalars are replaced, not merged. */
export function mergeConfig(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) {
    return override === undefined ? base : override;
  }
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = mergeConfig(base[key], value);
  }
  return merged;
}

function checkSection(
  section: unknown,
  path: string,
  known: ReadonlySet<string>,
  kind: string,
  problems: ConfigProblem[],
): Record<string, unknown> {
  if (section === undefined) {
    return {};
  }
  if (!isPlainObject(section)) {
    problems.push({ path, message: 'must be an object' });
    return {};
  }
  for (const [key, entry] of Object.entries(section)) {
    if (!known.has(key)) {
      problems.push({
        path: `${path}.${key}`,
        message: `is not ${kind} of this job (known: ${[...known].join(', ') || 'none'})`,
      });
    } else if (!isPlainObject(entry)) {
      problems.push({ path: `${path}.${key}`, message: 'must be an object like {"config": {...}}' });
    } else {
      for (const extra of Object.keys(entry).filter((k) => k !== 'config')) {
        problems.push({ path: `${path}.${key}.${extra}`, message: 'is not a recognised key; use "config"' });
      }
    }
  }
  return section;
}

/** Structural problems only (unknown keys and shapes), which a job's default config can be checked for. */
export function checkRunConfigShape(job: JobDefinition, runConfig: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (runConfig === undefined || runConfig === null) {
    return problems;
  }
  if (!isPlainObject(runConfig)) {
    return [{ path: '(root)', message: 'run config must be an object' }];
  }
  for (const key of Object.keys(runConfig).filter((k) => !['ops', 'resources', 'execution'].includes(k))) {
    problems.push({ path: key, message: 'is not a recognised key (use ops, resources or execution)' });
  }
  checkSection(runConfig.ops, 'ops', new Set(job.graph.nodes.map((n) => n.name)), 'a node', problems);
  checkSection(runConfig.resources, 'resources', new Set(Object.keys(job.resources)), 'a resource', problems);
  const execution = runConfig.execution;
  if (execution !== undefined) {
    const config = isPlainObject(execution) ? execution.config : undefined;
    if (!isPlainObject(execution) || Object.keys(execution).some((k) => k !== 'config')) {
      problems.push({ path: 'execution', message: 'must be {"config": {"maxConcurrent": n}}' });
    } else if (config !== undefined) {
      if (!isPlainObject(config)) {
        problems.push({ path: 'execution.config', message: 'must be an object' });
      } else {
        for (const key of Object.keys(config).filter((k) => k !== 'maxConcurrent')) {
          problems.push({ path: `execution.config.${key}`, message: 'is not a recognised key; remove it' });
        }
        const max = config.maxConcurrent;
        if (max !== undefined && (!Number.isInteger(max) || (max as number) < 1)) {
          problems.push({ path: 'execution.config.maxConcurrent', message: 'must be a positive integer' });
        }
      }
    }
  }
  return problems;
}

/**
 * Validates `runConfig` (merged over the job's default config) against the job's op and resource
 * schemas. Returns every problem at once rather than the first, so a caller fixes them in one go.
 */
export function resolveRunConfig(
  job: JobDefinition,
  runConfig: unknown,
): { config?: ResolvedRunConfig; problems: ConfigProblem[] } {
  const merged = mergeConfig(job.config, runConfig ?? {}) as RunConfig;
  const problems = checkRunConfigShape(job, merged);
  const ops: Record<string, unknown> = {};
  for (const node of job.graph.nodes) {
    const entry = isPlainObject(merged.ops) ? merged.ops[node.name] : undefined;
    const given = isPlainObject(entry) ? entry.config : undefined;
    const path = `ops.${node.name}.config`;
    if (!node.op.config) {
      if (given !== undefined && !(isPlainObject(given) && Object.keys(given).length === 0)) {
        problems.push({ path, message: `op "${node.op.name}" takes no config; remove it` });
      }
      ops[node.name] = {};
      continue;
    }
    const result = node.op.config.validate(given, path);
    problems.push(...result.problems);
    ops[node.name] = result.value;
  }
  const resources: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(job.resources)) {
    const entry = isPlainObject(merged.resources) ? merged.resources[key] : undefined;
    const given = isPlainObject(entry) ? entry.config : undefined;
    const path = `resources.${key}.config`;
    if (!def.config) {
      if (given !== undefined && !(isPlainObject(given) && Object.keys(given).length === 0)) {
        problems.push({ path, message: 'this resource takes no config; remove it' });
      }
      resources[key] = {};
      continue;
    }
    if (given === undefined && !acceptsEmptyConfig(def.config)) {
      problems.push({ path, message: 'is required' });
    }
    const result = def.config.validate(given, path);
    if (given !== undefined) {
      problems.push(...result.problems);
    }
    resources[key] = result.value;
  }
  if (problems.length > 0) {
    return { problems };
  }
  return {
    problems,
    config: {
      raw: merged,
      ops,
      resources,
      maxConcurrent: merged.execution?.config?.maxConcurrent ?? job.executor.maxConcurrent,
    },
  };
}
