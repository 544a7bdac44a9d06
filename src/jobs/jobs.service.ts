import { Inject, Injectable, Optional } from '@nestjs/common';

import type { Principal } from '../auth/principal.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
  UnprocessableError,
} from '../common/errors/domain-errors.js';
import { mintId } from '../common/ids/ids.js';
import type { ListRequestDto, Page } from '../common/pagination/list-request.dto.js';
import { renameFilterFields } from '../common/pagination/filter-policy.js';
import { Paginator } from '../common/pagination/paginator.js';
import type { OperationDto } from '../operations/operations.dto.js';
import { OperationsService } from '../operations/operations.service.js';
import { WORK_ARRIVED, WORK_TOPICS, type WorkArrived } from '../orchestrator/work-arrived.js';
import { TypedObjectsService } from '../drs/typed-objects.service.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { isHubWorkflow } from '../sites/hub-capabilities.js';
import { SitesService } from '../sites/sites.service.js';
import { DEFAULT_LEASE_SECONDS, RegistryService } from '../workflows/registry.service.js';
import type { WorkflowDoc } from '../workflows/registry.types.js';
import { JobClaimsStore } from './job-claims.store.js';
import {
  claimableFilter,
  claimRecordOf,
  decideClaim,
  deriveStatus,
  finishClaim,
  reopenJob,
  type ClaimDecision,
  type JobClaimState,
} from './job-state.js';
import type { JobCreateDto, JobDto } from './jobs.dto.js';
import { JobsRepository, type JobDoc } from './jobs.repository.js';

const JOB_FIELDS = [
  'id',
  'workflow',
  'name',
  'description',
  'config',
  'created_at',
  'created_by',
  'claims',
  'status',
];

export function toJobDto(job: JobDoc, now = new Date()): JobDto {
  return {
    id: job.id,
    workflow: { id: job.workflow.id, name: job.workflow.name, capability_ids: job.workflow.capability_ids },
    ...(job.name ? { name: job.name } : {}),
    ...(job.description ? { description: job.description } : {}),
    config: job.config,
    created_at: job.created_at.toISOString(),
    created_by: job.created_by,
    claims: Object.values(job.claims)
      .sort((a, b) => a.claimed_at.getTime() - b.claimed_at.getTime())
      .map((c) => ({
        op_id: c.op_id,
        site_id: c.site_id,
        claimed_at: c.claimed_at.toISOString(),
        expire_time: c.expire_time.toISOString(),
        state: c.state,
        ...(c.finished_at ? { finished_at: c.finished_at.toISOString() } : {}),
        ...(c.state !== 'open' ? { done: true } : {}),
        ...(claimRecordOf(c).cancelled ? { cancelled: true } : {}),
      })),
    // Derived at read time, so a lease that just ran out shows at once, before any sweep.
    status: deriveStatus(job.claims, now, job.reopened_at),
    ...(job.reopened_at ? { reopened_at: job.reopened_at.toISOString() } : {}),
  };
}

export interface ClaimOutcome {
  operation: OperationDto;
  /** False when the site already held this claim and got its operation back. */
  created: boolean;
}

export interface TriggeredJob {
  workflowId: string;
  objectId: string;
}

const triggerKey = (pair: TriggeredJob): string => `trigger:${pair.workflowId}:${pair.objectId}`;

@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly operations: OperationsService,
    private readonly claims: JobClaimsStore,
    private readonly registry: RegistryService,
    private readonly sites: SitesService,
    private readonly paginator: Paginator,
    private readonly objects: TypedObjectsService,
    @Inject(APP_CONFIG) config: AppConfig,
    // Absent in command-line contexts, where the sensors' interval ticks find the work.
    @Optional() @Inject(WORK_ARRIVED) private readonly workArrived?: WorkArrived,
  ) {
    this.hubSiteId = config.auth.hubSiteId;
  }

  private readonly hubSiteId: string;

  async create(input: JobCreateDto, principal: Principal): Promise<JobDto> {
    if (principal.kind !== 'site') {
      throw new ForbiddenError('Jobs are created by site clients');
    }
    const workflow = await this.registry.findWorkflow(input.workflow.id);
    if (!workflow) {
      throw new UnprocessableError(`No workflow with id "${input.workflow.id}"; GET /workflows lists them`, {
        errors: [{ path: 'workflow.id', message: 'unknown workflow' }],
      });
    }
    const id = mintId('sys0');
    const job = this.newJob(
      id,
      workflow,
      input.config,
      `site:${principal.siteId}`,
      `job:${id}`,
      input.name,
      input.description,
    );
    if (!(await this.jobs.insert(job))) {
      throw new ServiceUnavailableError('Could not store the job (id collision); retry');
    }
    this.workArrived?.notify(WORK_TOPICS.jobAvailable(workflow.id));
    return toJobDto(job);
  }

  /**
   * Creates the job for a (workflow, object) pair unless it exists; safe to call from several processes
   * at once (the dedupe key is unique). Returns the ids of jobs it created.
   */
  async createForTriggers(pairs: readonly TriggeredJob[]): Promise<string[]> {
    const keyOf = triggerKey;
    const existing = await this.jobs.existingDedupeKeys(pairs.map(keyOf));
    const created: string[] = [];
    for (const pair of pairs) {
      if (existing.has(keyOf(pair))) {
        continue;
      }
      const workflow = await this.registry.findWorkflow(pair.workflowId);
      if (!workflow) {
        continue;
      }
      const id = mintId('sys0');
      const job = this.newJob(id, workflow, { object_id: pair.objectId }, 'hub:triggers', keyOf(pair));
      if (await this.jobs.insert(job)) {
        created.push(id);
        this.workArrived?.notify(WORK_TOPICS.jobAvailable(pair.workflowId));
      }
    }
    return created;
  }

  /**
   * (workflow, object) pairs a trigger asks for and no job exists for yet: objects whose types match a
   * trigger's object type. The trigger sensor turns each into a run of `ensure_jobs`.
   */
  async pendingTriggeredJobs(limit: number): Promise<TriggeredJob[]> {
    const workflowsByType = new Map<string, string[]>();
    for (const trigger of await this.registry.triggerDocs()) {
      workflowsByType.set(trigger.object_type_id, [
        ...(workflowsByType.get(trigger.object_type_id) ?? []),
        trigger.workflow_id,
      ]);
    }
    const objects = await this.objects.findTyped([...workflowsByType.keys()], Math.max(limit * 4, 1000));
    const pairs = objects.flatMap((object) =>
      object.types.flatMap((type) =>
        (workflowsByType.get(type) ?? []).map((workflowId) => ({ workflowId, objectId: object.id })),
      ),
    );
    const existing = await this.jobs.existingDedupeKeys(pairs.map(triggerKey));
    return pairs.filter((pair) => !existing.has(triggerKey(pair))).slice(0, limit);
  }

  async get(id: string): Promise<JobDto> {
    return toJobDto(await this.require(id));
  }

  /** The job a trigger created for an object, if any: one per workflow and object, by its dedupe key. */
  async triggeredJob(workflowId: string, objectId: string): Promise<JobDto | undefined> {
    const job = await this.jobs.findByDedupeKey(triggerKey({ workflowId, objectId }));
    return job ? toJobDto(job) : undefined;
  }

  /**
   * Jobs of `workflowIds` that `siteId` may claim now, oldest first, leaving out failed ones: for the
   * hub's own sensors, which leave a failure alone (it stays visible on the operation) until the job is
   * reopened.
   */
  async claimableJobs(siteId: string, workflowIds: readonly string[], limit: number): Promise<JobDto[]> {
    const now = new Date();
    const filter = { $and: [claimableFilter(siteId, [...workflowIds], now), { status: { $ne: 'failed' } }] };
    return (await this.jobs.findPage({ filter, limit })).map((job) => toJobDto(job, now));
  }

  /** With a site token and no filter: only the jobs that site may claim now. */
  async list(request: ListRequestDto, principal: Principal | undefined): Promise<Page<Partial<JobDto>>> {
    let baseFilter: Record<string, unknown> | undefined;
    if (principal?.kind === 'site' && request.filter === undefined) {
      const workflowIds = await this.registry.workflowsClaimableWith(
        (await this.sites.effectiveCapabilitiesOf(principal.siteId)) ?? [],
      );
      baseFilter = claimableFilter(principal.siteId, workflowIds, new Date());
    }
    return this.paginator.paginate(request, {
      scope: 'jobs',
      filterPolicy: {
        fields: [
          'id',
          'workflow.id',
          'workflow.name',
          'name',
          'description',
          'config',
          'created_at',
          'created_by',
          'status',
          'completed',
          'claims',
        ],
      },
      // NMDC's clients filter on `claims` as NMDC stores them, which is the shape claim_records keeps.
      storedFilter: (filter) => renameFilterFields(filter, { claims: 'claim_records' }),
      fields: JOB_FIELDS,
      keyField: 'id',
      keyOf: (job: JobDoc) => job.id,
      fetch: (query) => this.jobs.findPage(query),
      map: (job: JobDoc) => toJobDto(job),
      ...(baseFilter ? { baseFilter } : {}),
    });
  }

  /**
   * Puts a failed job back up for claiming, for work that may now succeed (a resubmitted changesheet).
   * False when the job has not failed: it is unclaimed, claimed or done already.
   */
  async reopen(jobId: string): Promise<boolean> {
    const update = await this.claims.update(jobId, (job, now) => reopenJob(job, now));
    if (!update) {
      throw new NotFoundError(`No job with id "${jobId}"`);
    }
    return update.changed;
  }

  /**
   * Claims a job for a site: atomic under any contention (compare-and-set on the job), idempotent for the
   * site that already holds the claim. The hub's own sensors call this too, as the hub's site.
   */
  async claim(jobId: string, siteId: string): Promise<ClaimOutcome> {
    const held = await this.sites.effectiveCapabilitiesOf(siteId);
    if (!held) {
      throw new ForbiddenError(`Site "${siteId}" no longer exists`);
    }
    const opId = mintId('sys0');
    let decision: ClaimDecision | undefined;
    const update = await this.claims.update(jobId, (job, now) => {
      if (siteId !== this.hubSiteId && isHubWorkflow(job.workflow.capability_ids)) {
        throw new ForbiddenError(
          `Job "${jobId}" runs workflow "${job.workflow.id}", which only the hub itself runs`,
        );
      }
      const missing = job.workflow.capability_ids.filter((c) => !held.includes(c));
      if (missing.length > 0) {
        throw new ForbiddenError(
          `Site "${siteId}" lacks the capabilities ${missing.join(', ')} that workflow "${job.workflow.id}" needs`,
        );
      }
      decision = decideClaim(job, siteId, opId, now, job.workflow.lease_seconds);
      return decision.kind === 'claim' ? decision.next : null;
    });
    if (!update || !decision) {
      throw new NotFoundError(`No job with id "${jobId}"`);
    }
    switch (decision.kind) {
      case 'reuse':
        return { operation: await this.awaitOperation(decision.opId), created: false };
      case 'conflict':
        throw new ConflictError(
          `Job "${jobId}" is claimed by site "${decision.siteId}" (operation "${decision.opId}") until its lease ends`,
          { extra: { operation_id: decision.opId }, code: 'already_claimed' },
        );
      case 'completed':
        throw new ConflictError(`Job "${jobId}" is done; it cannot be claimed again`, { code: 'job_done' });
      case 'claim': {
        const job = update.job;
        const entry = job.claims[opId]!;
        let operation: OperationDto;
        try {
          operation = await this.operations.openForClaim({
            operationId: opId,
            jobId: job.id,
            workflowId: job.workflow.id,
            config: job.config,
            siteId,
            claimedAt: entry.claimed_at,
            expireTime: entry.expire_time,
          });
        } catch (error) {
          await this.claims.update(job.id, (current, at) => finishClaim(current, opId, 'cancelled', at));
          throw error;
        }
        await this.closeExpired(decision.expiredOpIds, entry.claimed_at);
        return { operation, created: true };
      }
    }
  }

  /** The winner of a claim writes its operation just after the job; a concurrent re-claim may look between. */
  private async awaitOperation(opId: string): Promise<OperationDto> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const operation = await this.operations.find(opId);
      if (operation) {
        return operation;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new ServiceUnavailableError(`Operation "${opId}" is not written yet; retry the claim`);
  }

  /** Cancels the site's open operations on the job and makes it claimable again. */
  async release(jobId: string, siteId: string): Promise<JobDto> {
    await this.require(jobId);
    return this.releaseOne(jobId, siteId);
  }

  /** Releases each known job; unknown ids are skipped, as NMDC does (the answer lists the released jobs). */
  async releaseMany(jobIds: readonly string[], siteId: string): Promise<JobDto[]> {
    const ids = [...new Set(jobIds)];
    const jobs = await Promise.all(ids.map((id) => this.jobs.findById(id)));
    const released: JobDto[] = [];
    for (const [i, id] of ids.entries()) {
      if (jobs[i] !== null) {
        released.push(await this.releaseOne(id, siteId));
      }
    }
    return released;
  }

  private async releaseOne(jobId: string, siteId: string): Promise<JobDto> {
    let cancelled: string[] = [];
    const updated = await this.claims.update(jobId, (job, at) => {
      let state: JobClaimState | null = null;
      cancelled = [];
      for (const entry of Object.values(job.claims)) {
        if (entry.site_id === siteId && entry.state === 'open') {
          state = finishClaim(state ?? job, entry.op_id, 'cancelled', at) ?? state;
          cancelled.push(entry.op_id);
        }
      }
      return state;
    });
    if (!updated) {
      throw new NotFoundError(`No job with id "${jobId}"`);
    }
    for (const opId of updated.changed ? cancelled : []) {
      await this.operations.markCancelled(opId, updated.job.updated_at);
    }
    this.workArrived?.notify(WORK_TOPICS.jobAvailable(updated.job.workflow.id));
    return toJobDto(updated.job);
  }

  /** The claim already closed these entries as expired; their operations now say so too. */
  private async closeExpired(opIds: readonly string[], now: Date): Promise<void> {
    for (const opId of opIds) {
      await this.operations.markExpired(opId, now);
    }
  }

  private newJob(
    id: string,
    workflow: WorkflowDoc,
    config: Record<string, unknown>,
    createdBy: string,
    dedupeKey: string,
    name?: string,
    description?: string,
  ): JobDoc {
    const now = new Date();
    return {
      id,
      workflow: {
        id: workflow.id,
        name: workflow.name,
        capability_ids: workflow.capability_ids,
        lease_seconds: workflow.lease_seconds ?? DEFAULT_LEASE_SECONDS,
      },
      ...(name ? { name } : {}),
      ...(description ? { description } : {}),
      config,
      created_at: now,
      created_by: createdBy,
      dedupe_key: dedupeKey,
      parallel_claims: workflow.parallel_claims ?? false,
      claims: {},
      claim_records: [],
      open_claim_sites: [],
      claim_lock: null,
      completed: false,
      status: 'unclaimed',
      version: 0,
      updated_at: now,
    };
  }

  private async require(id: string): Promise<JobDoc> {
    const job = await this.jobs.findById(id);
    if (!job) {
      throw new NotFoundError(`No job with id "${id}"`);
    }
    return job;
  }
}
