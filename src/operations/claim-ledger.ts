/**
 * The claim behind an operation, as the job that holds it records it. An operation is one site's claim
 * on a job, and the claim entry on the job is the source of truth, so closing or extending an operation
 * changes that entry first. The jobs feature implements this port; operations never import jobs.
 */
export interface ClaimLedger {
  /**
   * Closes claim `operationId` on job `jobId` with `outcome`. False when the claim was no longer open.
   * Throws a domain error when `siteId` may not report on the job.
   */
  finish(jobId: string, operationId: string, outcome: 'done' | 'failed', siteId: string): Promise<boolean>;
  /** Moves the lease of an open claim to `expireTime`; false when it was no longer open. Throws as `finish`. */
  extend(jobId: string, operationId: string, expireTime: Date, siteId: string): Promise<boolean>;
  /**
   * Closes the claim as expired if its lease has ended. True when the claim is expired now, whether
   * this call or an earlier takeover closed it.
   */
  expireIfDue(jobId: string, operationId: string): Promise<boolean>;
}

export const CLAIM_LEDGER = Symbol('CLAIM_LEDGER');
