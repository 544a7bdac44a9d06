import { Inject, Injectable } from '@nestjs/common';

import { ForbiddenError } from '../common/errors/domain-errors.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { ClaimLedger } from '../operations/claim-ledger.js';
import { isHubWorkflow } from '../sites/hub-capabilities.js';
import { JobClaimsStore } from './job-claims.store.js';
import { extendClaim, finishClaim } from './job-state.js';
import type { JobDoc } from './jobs.repository.js';

/** The claim entries behind operations, changed through the one compare-and-set path every claim takes. */
@Injectable()
export class JobClaimLedger implements ClaimLedger {
  private readonly hubSiteId: string;

  constructor(
    private readonly claims: JobClaimsStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.hubSiteId = config.auth.hubSiteId;
  }

  async finish(
    jobId: string,
    operationId: string,
    outcome: 'done' | 'failed',
    siteId: string,
  ): Promise<boolean> {
    const update = await this.claims.update(jobId, (job, at) => {
      this.refuseForeignReportOnHubJob(job, siteId, operationId);
      return finishClaim(job, operationId, outcome, at);
    });
    return update?.changed ?? false;
  }

  async extend(jobId: string, operationId: string, expireTime: Date, siteId: string): Promise<boolean> {
    const update = await this.claims.update(jobId, (job, at) => {
      this.refuseForeignReportOnHubJob(job, siteId, operationId);
      return extendClaim(job, operationId, expireTime, at);
    });
    return update?.changed ?? false;
  }

  async expireIfDue(jobId: string, operationId: string): Promise<boolean> {
    const update = await this.claims.update(jobId, (job, at) => {
      const entry = job.claims[operationId];
      if (!entry || entry.state !== 'open' || entry.expire_time.getTime() > at.getTime()) {
        return null;
      }
      return finishClaim(job, operationId, 'expired', at);
    });
    return update?.job.claims[operationId]?.state === 'expired';
  }

  /** A result for work only the hub runs (changesheets, JSON submissions) counts only from the hub. */
  private refuseForeignReportOnHubJob(job: JobDoc, siteId: string, operationId: string): void {
    if (siteId !== this.hubSiteId && isHubWorkflow(job.workflow.capability_ids)) {
      throw new ForbiddenError(
        `Operation "${operationId}" is for workflow "${job.workflow.id}", which only the hub itself runs; site "${siteId}" cannot report on it`,
      );
    }
  }
}
