import { Injectable } from '@nestjs/common';

import { ServiceUnavailableError } from '../common/errors/domain-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { VersionGate } from '../infra/mongo/version-gate.js';
import type { JobClaimState } from './job-state.js';
import { JobsRepository, type JobDoc } from './jobs.repository.js';

const MAX_ATTEMPTS = 200;

export interface ClaimsUpdate {
  /** The job as it stands after the update (or as it was, when nothing changed). */
  job: JobDoc;
  /** False when `decide` found nothing to change. */
  changed: boolean;
}

/**
 * Read → decide → exclusive write, retried while other writers win. Every change to a job's claims goes
 * through here, whichever API or sensor causes it, so the claim rules hold under any contention.
 */
@Injectable()
export class JobClaimsStore {
  private readonly gate: VersionGate<JobClaimState>;

  constructor(
    private readonly jobs: JobsRepository,
    mongo: MongoService,
  ) {
    this.gate = new VersionGate<JobClaimState>(mongo, 'job_versions');
  }

  /**
   * Applies `decide` to the current job until its write lands. `decide` returns the next state, or null
   * for "nothing to change"; it may throw to abort. Null when the job does not exist.
   */
  async update(
    jobId: string,
    decide: (job: JobDoc, now: Date) => JobClaimState | null,
  ): Promise<ClaimsUpdate | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const job = await this.jobs.findById(jobId);
      if (!job) {
        return null;
      }
      const now = new Date();
      const next = decide(job, now);
      if (!next) {
        return { job, changed: false };
      }
      if (await this.gate.claim(job.id, job.version + 1, next)) {
        await this.jobs.writeVersion(job.id, job.version, next, now);
        return { job: { ...job, ...next, version: job.version + 1, updated_at: now }, changed: true };
      }
      const abandoned = await this.gate.abandoned(job.id, job.version + 1, now);
      if (abandoned) {
        await this.jobs.writeVersion(job.id, job.version, abandoned, now);
      } else {
        // The winner is writing right now; give it a moment before reading again.
        await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 8));
      }
    }
    throw new ServiceUnavailableError(`Job "${jobId}" is changing too fast to update; retry shortly`);
  }

  /** Housekeeping: forget version slots that are long written. */
  sweep(cutoff: Date): Promise<number> {
    return this.gate.sweep(cutoff);
  }
}
