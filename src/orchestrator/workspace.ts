import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { AppConfig } from '../config/app-config.js';
import { mergeRepositories, type RepositoryDefinition } from './core/index.js';

export const ORCH_WORKSPACE = Symbol('ORCH_WORKSPACE');

function isRepository(value: unknown): value is RepositoryDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'repository';
}

/**
 * Every definition a process serves: the built-in repository (the hub's site) plus the repositories
 * exported by the modules listed in ORCH_CODE_LOCATIONS (Dagster's code locations), merged into one
 * namespace. `scheduleCrons` are the built-in schedules' crons set by other settings; ORCH_SCHEDULE_CRONS
 * overrides them.
 */
export async function loadWorkspace(
  config: AppConfig,
  builtIn: RepositoryDefinition,
  scheduleCrons: Readonly<Record<string, string>> = {},
): Promise<RepositoryDefinition> {
  const repositories = [builtIn];
  for (const location of config.orchestrator.codeLocations) {
    const url = pathToFileURL(isAbsolute(location) ? location : resolve(process.cwd(), location)).href;
    const loaded = (await import(url)) as Record<string, unknown>;
    const found = Object.values(loaded).filter(isRepository);
    if (found.length === 0) {
      throw new Error(`ORCH_CODE_LOCATIONS: ${location} exports no repository() definition`);
    }
    repositories.push(...found);
  }
  return withScheduleCrons(
    withSensorIntervals(mergeRepositories('workspace', repositories), config.orchestrator.sensorIntervals),
    { ...scheduleCrons, ...config.orchestrator.scheduleCrons },
  );
}

/**
 * Applies crons the operator configures (EXPORT_METADATA_CRON, then ORCH_SCHEDULE_CRONS); the config
 * already checked them. Naming a schedule that does not exist stops the boot.
 */
function withScheduleCrons(
  workspace: RepositoryDefinition,
  crons: Readonly<Record<string, string>>,
): RepositoryDefinition {
  const unknown = Object.keys(crons).filter((name) => !workspace.schedules.has(name));
  if (unknown.length > 0) {
    throw new Error(`ORCH_SCHEDULE_CRONS names unknown schedule(s): ${unknown.join(', ')}`);
  }
  const schedules = new Map(
    [...workspace.schedules].map(([name, definition]) => {
      const cron = crons[name];
      return [
        name,
        cron === undefined || cron === definition.cron ? definition : Object.freeze({ ...definition, cron }),
      ];
    }),
  );
  return Object.freeze({ ...workspace, schedules });
}

/** Applies ORCH_SENSOR_INTERVALS; naming a sensor that does not exist stops the boot. */
function withSensorIntervals(
  workspace: RepositoryDefinition,
  intervals: Readonly<Record<string, number>>,
): RepositoryDefinition {
  const unknown = Object.keys(intervals).filter((name) => !workspace.sensors.has(name));
  if (unknown.length > 0) {
    throw new Error(`ORCH_SENSOR_INTERVALS names unknown sensor(s): ${unknown.join(', ')}`);
  }
  if (Object.keys(intervals).length === 0) {
    return workspace;
  }
  const sensors = new Map(
    [...workspace.sensors].map(([name, definition]) => [
      name,
      intervals[name] === undefined
        ? definition
        : Object.freeze({ ...definition, minimumIntervalSeconds: intervals[name] }),
    ]),
  );
  return Object.freeze({ ...workspace, sensors });
}
