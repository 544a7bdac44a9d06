import { DefinitionError } from './errors.js';
import { missingResources, withDefaultResources, type JobDefinition } from './job.js';
import type { ResourceDefinition } from './resource.js';
import type { ScheduleDefinition } from './schedule.js';
import type { SensorDefinition } from './sensor.js';

export interface RepositoryOptions {
  readonly name: string;
  readonly jobs?: readonly JobDefinition[];
  readonly sensors?: readonly SensorDefinition[];
  readonly schedules?: readonly ScheduleDefinition[];
  /** Resources bound to every job that does not define the key itself (Dagster's Definitions resources). */
  readonly resources?: Readonly<Record<string, ResourceDefinition>>;
}

export interface RepositoryDefinition {
  readonly kind: 'repository';
  readonly name: string;
  readonly jobs: ReadonlyMap<string, JobDefinition>;
  readonly sensors: ReadonlyMap<string, SensorDefinition>;
  readonly schedules: ReadonlyMap<string, ScheduleDefinition>;
  readonly resources: Readonly<Record<string, ResourceDefinition>>;
}

/**
 * Collects definitions under one name. Jobs targeted by sensors and schedules are included even when
 * not listed; names must be unique; every op's required resources must be bound.
 */
export function repository(options: RepositoryOptions): RepositoryDefinition {
  const problems: string[] = [];
  const resources = { ...(options.resources ?? {}) };
  const declared = [
    ...(options.jobs ?? []),
    ...(options.sensors ?? []).flatMap((s) => s.jobs),
    ...(options.schedules ?? []).map((s) => s.job),
  ];
  const originals = new Map<string, JobDefinition>();
  for (const job of declared) {
    const previous = originals.get(job.name);
    if (previous && previous !== job) {
      problems.push(`two different jobs are named "${job.name}"`);
    }
    originals.set(job.name, job);
  }
  const jobs = new Map<string, JobDefinition>();
  for (const [name, job] of originals) {
    const resolved = withDefaultResources(job, resources);
    const missing = missingResources(resolved);
    if (missing.length > 0) {
      problems.push(`job "${name}" lacks resource(s) ${missing.join(', ')}`);
    }
    jobs.set(name, resolved);
  }
  const instigators = new Set<string>();
  const sensors = new Map<string, SensorDefinition>();
  for (const definition of options.sensors ?? []) {
    if (instigators.has(definition.name)) {
      problems.push(`two sensors or schedules are named "${definition.name}"`);
    }
    instigators.add(definition.name);
    const missing = definition.requiredResources.filter((key) => !(key in resources));
    if (missing.length > 0) {
      problems.push(`sensor "${definition.name}" needs repository resource(s) ${missing.join(', ')}`);
    }
    sensors.set(definition.name, {
      ...definition,
      jobs: definition.jobs.map((j) => jobs.get(j.name) ?? j),
    });
  }
  const schedules = new Map<string, ScheduleDefinition>();
  for (const definition of options.schedules ?? []) {
    if (instigators.has(definition.name)) {
      problems.push(`two sensors or schedules are named "${definition.name}"`);
    }
    instigators.add(definition.name);
    schedules.set(definition.name, { ...definition, job: jobs.get(definition.job.name) ?? definition.job });
  }
  if (problems.length > 0) {
    throw new DefinitionError(`repository "${options.name}"`, problems);
  }
  return Object.freeze({
    kind: 'repository' as const,
    name: options.name,
    jobs,
    sensors,
    schedules,
    resources,
  });
}

/** Merges the repositories a hub serves into one namespace; a name defined twice is refused. */
export function mergeRepositories(
  name: string,
  repositories: readonly RepositoryDefinition[],
): RepositoryDefinition {
  const problems: string[] = [];
  const jobs = new Map<string, JobDefinition>();
  const sensors = new Map<string, SensorDefinition>();
  const schedules = new Map<string, ScheduleDefinition>();
  const resources: Record<string, ResourceDefinition> = {};
  for (const repo of repositories) {
    for (const [key, job] of repo.jobs) {
      if (jobs.has(key)) {
        problems.push(`job "${key}" is defined by more than one repository (again in "${repo.name}")`);
      }
      jobs.set(key, job);
    }
    for (const [key, definition] of repo.sensors) {
      if (sensors.has(key) || schedules.has(key)) {
        problems.push(`instigator "${key}" is defined by more than one repository (again in "${repo.name}")`);
      }
      sensors.set(key, definition);
    }
    for (const [key, definition] of repo.schedules) {
      if (sensors.has(key) || schedules.has(key)) {
        problems.push(`instigator "${key}" is defined by more than one repository (again in "${repo.name}")`);
      }
      schedules.set(key, definition);
    }
    Object.assign(resources, repo.resources);
  }
  if (problems.length > 0) {
    throw new DefinitionError(`workspace "${name}"`, problems);
  }
  return Object.freeze({ kind: 'repository' as const, name, jobs, sensors, schedules, resources });
}
