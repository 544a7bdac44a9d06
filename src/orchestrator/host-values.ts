import type { AppConfig } from '../config/app-config.js';
import { MAINTENANCE, type OrchestratorMaintenance } from '../site/housekeeping.js';
import type { InstigatorRepository } from './storage/instigator.repository.js';
import type { RunRepository } from './storage/run.repository.js';

export const ORCH_HOST_VALUES = Symbol('ORCH_HOST_VALUES');

/**
 * The values `hostResource(key)` resolves to when a job runs inside the hub (worker or CLI). Later
 * features add their repositories here under the keys their site definitions ask for.
 */
export function buildHostValues(
  config: AppConfig,
  runs: RunRepository,
  instigators: InstigatorRepository,
): Readonly<Record<string, unknown>> {
  const maintenance: OrchestratorMaintenance = {
    eventRetentionDays: config.orchestrator.eventRetentionDays,
    deleteSkippedTicksBefore: (cutoff) => instigators.deleteSkippedTicksBefore(cutoff),
    deleteRunEventsBefore: (cutoff) => runs.deleteEventsOfRunsBefore(cutoff),
  };
  return Object.freeze({ [MAINTENANCE]: maintenance });
}
