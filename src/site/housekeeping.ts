import { graph, hostResource, op, schedule } from '../orchestrator/core/index.js';

/** What housekeeping needs from the hub's storage; the worker binds its PostgreSQL implementation. */
export interface OrchestratorMaintenance {
  /** Deletes SKIPPED ticks that started before `cutoff`; returns how many. */
  deleteSkippedTicksBefore(cutoff: Date): Promise<number>;
  /** Deletes the events (except asset materializations) of finished runs created before `cutoff`. */
  deleteRunEventsBefore(cutoff: Date): Promise<number>;
  /** The operator's default event retention (ORCH_EVENT_RETENTION_DAYS). */
  readonly eventRetentionDays: number;
  /** Deletes job operations that finished before `cutoff`; returns how many. */
  deleteFinishedOperationsBefore(cutoff: Date): Promise<number>;
  /** How long finished operations are kept (OPERATION_RETENTION_DAYS). */
  readonly operationRetentionDays: number;
  /** Drops revoked-token entries of tokens that have expired anyway, and claim write slots long applied. */
  sweepAuthAndClaimLeftovers(now: Date): Promise<{ revokedTokens: number; claimSlots: number }>;
  /**
   * Removes what interrupted blob writes left in the blob store before `cutoff`: unreferenced data of
   * uploads or deletes that died half-way, temporary files, unfinished multipart uploads.
   */
  sweepBlobLeftovers(cutoff: Date): Promise<{ removed: number; abortedUploads: number }>;
}

export const MAINTENANCE = 'orchestrator_maintenance';
const DAY_MS = 24 * 60 * 60 * 1000;

export const dropSkippedTicks = op<{ olderThanDays: number }>(
  {
    name: 'drop_skipped_ticks',
    description:
      'Drop SKIPPED sensor and schedule ticks older than `olderThanDays` (Dagster keeps them 7 days)',
    config: {
      type: 'object',
      properties: { olderThanDays: { type: 'number', minimum: 0, default: 7 } },
      additionalProperties: false,
    },
    requiredResources: [MAINTENANCE],
  },
  async (ctx) => {
    const maintenance = ctx.resources[MAINTENANCE] as OrchestratorMaintenance;
    const deleted = await maintenance.deleteSkippedTicksBefore(
      new Date(Date.now() - ctx.config.olderThanDays * DAY_MS),
    );
    ctx.log.info(`dropped ${deleted} skipped tick(s)`, { deleted });
    return deleted;
  },
);

/**
 * An op deleting what finished longer ago than a retention: its own `retentionDays` config, else the
 * operator's default that `defaultDays` reads off the maintenance resource.
 */
function retentionOp(spec: {
  name: string;
  description: string;
  defaultDays: (maintenance: OrchestratorMaintenance) => number;
  deleteBefore: (maintenance: OrchestratorMaintenance, cutoff: Date) => Promise<number>;
  /** The log line saying what was dropped. */
  dropped: (deleted: number, days: number) => string;
}) {
  return op<{ retentionDays?: number }>(
    {
      name: spec.name,
      description: spec.description,
      config: {
        type: 'object',
        properties: { retentionDays: { type: 'number', minimum: 0 } },
        additionalProperties: false,
      },
      requiredResources: [MAINTENANCE],
    },
    async (ctx) => {
      const maintenance = ctx.resources[MAINTENANCE] as OrchestratorMaintenance;
      const days = ctx.config.retentionDays ?? spec.defaultDays(maintenance);
      const deleted = await spec.deleteBefore(maintenance, new Date(Date.now() - days * DAY_MS));
      ctx.log.info(spec.dropped(deleted, days), { deleted, days });
      return deleted;
    },
  );
}

export const dropOldRunEvents = retentionOp({
  name: 'drop_old_run_events',
  description:
    'Drop the events of finished runs older than the retention (ORCH_EVENT_RETENTION_DAYS unless configured); asset materializations are kept',
  defaultDays: (maintenance) => maintenance.eventRetentionDays,
  deleteBefore: (maintenance, cutoff) => maintenance.deleteRunEventsBefore(cutoff),
  dropped: (deleted, days) => `dropped ${deleted} event(s) of runs older than ${days} day(s)`,
});

export const dropFinishedOperations = retentionOp({
  name: 'drop_finished_operations',
  description:
    'Delete job operations finished longer ago than the retention (OPERATION_RETENTION_DAYS unless configured)',
  defaultDays: (maintenance) => maintenance.operationRetentionDays,
  deleteBefore: (maintenance, cutoff) => maintenance.deleteFinishedOperationsBefore(cutoff),
  dropped: (deleted, days) => `dropped ${deleted} operation(s) finished over ${days} day(s) ago`,
});

export const sweepLeftovers = op(
  {
    name: 'sweep_revocations_and_claim_slots',
    description:
      'Drop revocations of tokens that have expired anyway, and write slots of long-applied claim changes',
    requiredResources: [MAINTENANCE],
  },
  async (ctx) => {
    const swept = await (ctx.resources[MAINTENANCE] as OrchestratorMaintenance).sweepAuthAndClaimLeftovers(
      new Date(),
    );
    ctx.log.info(`dropped ${swept.revokedTokens} revocation(s) and ${swept.claimSlots} claim slot(s)`, swept);
    return swept;
  },
);

export const sweepBlobLeftovers = op<{ olderThanDays: number }>(
  {
    name: 'sweep_blob_leftovers',
    description:
      'Remove what interrupted uploads and deletes left in the blob store over `olderThanDays` ago: bytes no blob refers to, temporary objects, unfinished multipart uploads',
    config: {
      type: 'object',
      // Younger leftovers may be uploads still on their way; a day is longer than any upload takes.
      properties: { olderThanDays: { type: 'number', minimum: 0, default: 1 } },
      additionalProperties: false,
    },
    requiredResources: [MAINTENANCE],
  },
  async (ctx) => {
    const maintenance = ctx.resources[MAINTENANCE] as OrchestratorMaintenance;
    const swept = await maintenance.sweepBlobLeftovers(
      new Date(Date.now() - ctx.config.olderThanDays * DAY_MS),
    );
    ctx.log.info(
      `removed ${swept.removed} blob leftover(s) and aborted ${swept.abortedUploads} unfinished upload(s)`,
      swept,
    );
    return swept;
  },
);

export const housekeeping = graph(
  'housekeeping',
  ({ call }) => {
    call(dropSkippedTicks);
    call(dropOldRunEvents);
    call(dropFinishedOperations);
    call(sweepLeftovers);
    call(sweepBlobLeftovers);
  },
  {
    description:
      "Trims history: old skipped ticks, old runs' events, long-finished job operations, expired revocations and applied claim slots; sweeps the blob store's leftovers",
  },
).toJob({ resources: { [MAINTENANCE]: hostResource<OrchestratorMaintenance>(MAINTENANCE) } });

export const housekeepingWeekly = schedule({
  name: 'housekeeping_weekly',
  description: 'Runs housekeeping every Sunday at 03:00 UTC',
  job: housekeeping,
  cron: '0 3 * * 0',
  timezone: 'UTC',
  defaultStatus: 'RUNNING',
});
