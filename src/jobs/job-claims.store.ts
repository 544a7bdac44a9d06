import { Injectable } from '@nestjs/common';

import type { JobClaimState } from './job-state.js';
import { JobsRepository, type ClaimsUpdate, type JobDoc } from './jobs.repository.js';

export type { ClaimsUpdate } from './jobs.repository.js';

/**
 * Read → decide → commit, retried on the latest state while other writers win. Every change to a job's
 * claims goes through here, whichever API or sensor causes it, so the claim rules hold under any
 * contention; the repository commits each change through the RevisionLog.
 */
@Injectable()
export class JobClaimsStore {
  constructor(private readonly jobs: JobsRepository) {}

  /**
   * Applies `decide` to the current job until its write lands. `decide` returns the next state, or null
   * for "nothing to change"; it may throw to abort, and may run more than once. Null when the job does not
   * exist.
   */
  update(
    jobId: string,
    decide: (job: JobDoc, now: Date) => JobClaimState | null,
  ): Promise<ClaimsUpdate | null> {
    return this.jobs.updateClaims(jobId, decide);
  }

  /** Housekeeping: forget revisions that are long copied onto their documents (of every collection). */
  sweep(cutoff: Date): Promise<number> {
    return this.jobs.sweepRevisions(cutoff);
  }
}
