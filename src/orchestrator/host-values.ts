import type { Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

import { RevocationsRepository } from '../auth/revocations.repository.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { JobClaimsStore } from '../jobs/job-claims.store.js';
import { JobsService } from '../jobs/jobs.service.js';
import { MetadataInService } from '../metadata/metadata-in.service.js';
import { OperationsService } from '../operations/operations.service.js';
import { MAINTENANCE, type OrchestratorMaintenance } from '../site/housekeeping.js';
import { HUB_CLAIMS, type HubClaims } from '../site/job-claims.js';
import { HUB_TRIGGERS, type HubTriggers } from '../site/job-triggers.js';
import { METADATA_IN, type MetadataIn } from '../site/metadata-in.js';
import { InstigatorRepository } from './storage/instigator.repository.js';
import { RunRepository } from './storage/run.repository.js';

export const ORCH_HOST_VALUES = Symbol('ORCH_HOST_VALUES');

/**
 * The values `hostResource(key)` resolves to when a job runs inside the hub (worker or CLI). Later
 * features add their repositories here under the keys their site definitions ask for. Services of other
 * features are looked up when first used, so a process that never runs those ops (the CLI listing jobs)
 * need not load their modules.
 */
export function buildHostValues(
  config: AppConfig,
  runs: RunRepository,
  instigators: InstigatorRepository,
  moduleRef: ModuleRef,
): Readonly<Record<string, unknown>> {
  const lazy =
    <T>(type: Type<T>): (() => T) =>
    () =>
      moduleRef.get(type, { strict: false });
  const operations = lazy(OperationsService);
  const claims = lazy(JobClaimsStore);
  const revocations = lazy(RevocationsRepository);
  const maintenance: OrchestratorMaintenance = {
    eventRetentionDays: config.orchestrator.eventRetentionDays,
    deleteSkippedTicksBefore: (cutoff) => instigators.deleteSkippedTicksBefore(cutoff),
    deleteRunEventsBefore: (cutoff) => runs.deleteEventsOfRunsBefore(cutoff),
    operationRetentionDays: config.jobs.operationRetentionDays,
    deleteFinishedOperationsBefore: (cutoff) => operations().sweepFinished(cutoff),
    sweepAuthAndClaimLeftovers: async (now) => ({
      revokedTokens: await revocations().sweepExpired(now),
      // A claim slot is only needed until its version is written, which takes milliseconds.
      claimSlots: await claims().sweep(new Date(now.getTime() - 60 * 60 * 1000)),
    }),
  };
  const hubClaims: HubClaims = {
    countStaleClaims: () => operations().countStale(new Date()),
    expireStaleClaims: () => operations().expireStale(new Date()),
  };
  const jobs = lazy(JobsService);
  const hubTriggers: HubTriggers = {
    pendingTriggeredJobs: (limit) => jobs().pendingTriggeredJobs(limit),
    createTriggeredJob: async (workflowId, objectId) =>
      (await jobs().createForTriggers([{ workflowId, objectId }]))[0],
  };
  const submissions = lazy(MetadataInService);
  const metadataIn: MetadataIn = {
    pendingJobs: (limit) => submissions().pendingJobs(limit),
    claim: (jobId) => submissions().claim(jobId),
    check: (objectId) => submissions().check(objectId),
    apply: (objectId) => submissions().apply(objectId),
    finish: (operationId, outcome) => submissions().finish(operationId, outcome),
    describeFailure: (error) => submissions().describeFailure(error),
  };
  return Object.freeze({
    [MAINTENANCE]: maintenance,
    [HUB_CLAIMS]: hubClaims,
    [HUB_TRIGGERS]: hubTriggers,
    [METADATA_IN]: metadataIn,
  });
}

/** The providers `buildHostValues` takes, in order. */
export const HOST_VALUE_DEPENDENCIES = [APP_CONFIG, RunRepository, InstigatorRepository, ModuleRef] as const;
