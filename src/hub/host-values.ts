import type { Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

import { ChangesheetWriter } from '../changesheets/changesheet-writer.service.js';
import { RevocationsRepository } from '../auth/revocations.repository.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ExportsService } from '../exports/exports.service.js';
import { BLOB_STORE, type BlobStore } from '../infra/blob/blob-store.js';
import { JobClaimsStore } from '../jobs/job-claims.store.js';
import { HubSiteService } from '../jobs/hub-site.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { MetadataInService } from '../metadata/metadata-in.service.js';
import { OperationsService } from '../operations/operations.service.js';
import { METADATA_EXPORTS, type MetadataExports } from '../site/exports.js';
import { MAINTENANCE, type OrchestratorMaintenance } from '../site/housekeeping.js';
import { HUB_CLAIMS, type HubClaims } from '../site/job-claims.js';
import { HUB_TRIGGERS, type HubTriggers } from '../site/job-triggers.js';
import { APPLY_CHANGESHEET_WORKFLOW, CHANGESHEETS, type Changesheets } from '../site/changesheets.js';
import type { ClaimedWork } from '../site/claimed-work.js';
import { METADATA_IN, METADATA_IN_WORKFLOW, type MetadataIn } from '../site/metadata-in.js';
import { InstigatorRepository } from '../orchestrator/storage/instigator.repository.js';
import { RunRepository } from '../orchestrator/storage/run.repository.js';

/**
 * The values `hostResource(key)` resolves to when a job runs inside the hub (worker or CLI): each port
 * the site's definitions declare (src/site), bound to the feature that serves it. New features add theirs
 * here under the keys their site definitions ask for. Services of other
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
    sweepBlobLeftovers: (cutoff) =>
      moduleRef.get<BlobStore>(BLOB_STORE, { strict: false }).sweepLeftovers(cutoff),
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
  const hubSite = lazy(HubSiteService);
  /** Claiming and reporting as the hub's site, for a workflow the hub runs itself. */
  const claimedWork = (workflowId: string): ClaimedWork => ({
    pendingJobs: (limit) => hubSite().pendingJobs(workflowId, limit),
    claim: (jobId) => hubSite().claim(jobId),
    finish: (operationId, outcome) => hubSite().finish(operationId, outcome),
    describeFailure: (error) => hubSite().describeFailure(error),
  });
  const submissions = lazy(MetadataInService);
  const metadataIn: MetadataIn = {
    ...claimedWork(METADATA_IN_WORKFLOW),
    check: (objectId) => submissions().check(objectId),
    apply: (objectId) => submissions().apply(objectId),
  };
  const changesheets = lazy(ChangesheetWriter);
  const changesheetsPort: Changesheets = {
    ...claimedWork(APPLY_CHANGESHEET_WORKFLOW),
    load: (objectId) => changesheets().load(objectId),
    apply: (objectId, operationId) => changesheets().apply(objectId, operationId),
  };
  const exportsService = lazy(ExportsService);
  const metadataExports: MetadataExports = {
    collections: () => exportsService().collections(),
    exportCollection: (collection, exportedAt, signal) =>
      exportsService().exportCollection(collection, exportedAt, signal),
    registerBundle: (files, exportedAt) => exportsService().registerBundle(files, exportedAt),
    importObject: (objectId, signal) => exportsService().importObject(objectId, signal),
  };
  return Object.freeze({
    [MAINTENANCE]: maintenance,
    [HUB_CLAIMS]: hubClaims,
    [HUB_TRIGGERS]: hubTriggers,
    [METADATA_IN]: metadataIn,
    [CHANGESHEETS]: changesheetsPort,
    [METADATA_EXPORTS]: metadataExports,
  });
}

/** The providers `buildHostValues` takes, in order. */
export const HOST_VALUE_DEPENDENCIES = [APP_CONFIG, RunRepository, InstigatorRepository, ModuleRef] as const;
