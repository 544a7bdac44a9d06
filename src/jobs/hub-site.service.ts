import { Inject, Injectable } from '@nestjs/common';

import type { SitePrincipal } from '../auth/principal.js';
import { DomainError } from '../common/errors/domain-errors.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { OperationsService } from '../operations/operations.service.js';
import type { OperationFailure, PendingObjectJob } from '../site/claimed-work.js';
import type { JobDto } from './jobs.dto.js';
import { JobsService } from './jobs.service.js';

/**
 * The hub acting as its own site for the workflows it runs itself (metadata-in, changesheets): it
 * claims and reports through the same services an HTTP site uses, so its jobs, claims and operations
 * look like any other site's.
 */
@Injectable()
export class HubSiteService {
  readonly principal: SitePrincipal;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly jobs: JobsService,
    private readonly operations: OperationsService,
  ) {
    this.principal = {
      kind: 'site',
      siteId: config.auth.hubSiteId,
      clientId: `hub:${config.auth.hubSiteId}`,
      tokenId: 'hub',
      tokenExpiresAt: new Date(8.64e15),
    };
  }

  async pendingJobs(workflowId: string, limit: number): Promise<PendingObjectJob[]> {
    const jobs = await this.jobs.claimableJobs(this.principal.siteId, [workflowId], limit);
    return jobs
      .filter((job) => typeof job.config.object_id === 'string')
      .map((job) => ({ jobId: job.id, objectId: job.config.object_id as string }));
  }

  async claim(jobId: string): Promise<{ operationId: string }> {
    const { operation } = await this.jobs.claim(jobId, this.principal.siteId);
    return { operationId: operation.id };
  }

  async finish(
    operationId: string,
    outcome: { result: unknown } | { error: OperationFailure },
  ): Promise<void> {
    // A run resumed after its worker died may finish an operation the first attempt already closed.
    if ((await this.operations.get(operationId)).done) {
      return;
    }
    await this.operations.patch(operationId, this.principal, { done: true, ...outcome });
  }

  /** Lets the hub's sensor claim a failed job again; false when it had not failed. */
  reopen(jobId: string): Promise<boolean> {
    return this.jobs.reopen(jobId);
  }

  describeFailure(error: unknown): OperationFailure {
    if (error instanceof DomainError) {
      return {
        code: error.code,
        message: error.message,
        ...(error.errors && error.errors.length > 0 ? { details: error.errors } : {}),
      };
    }
    return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
  }

  /** The job a trigger created for an object, if any (one per workflow and object). */
  jobForObject(workflowId: string, objectId: string): Promise<JobDto | undefined> {
    return this.jobs.triggeredJob(workflowId, objectId);
  }
}
