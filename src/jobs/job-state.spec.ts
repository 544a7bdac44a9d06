import { describe, expect, it } from 'vitest';

import {
  decideClaim,
  deriveStatus,
  extendClaim,
  finishClaim,
  reopenJob,
  type JobClaimState,
} from './job-state.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const later = (seconds: number): Date => new Date(t0.getTime() + seconds * 1000);

function fresh(parallel = false): JobClaimState {
  return {
    parallel_claims: parallel,
    claims: {},
    open_claim_sites: [],
    claim_lock: null,
    completed: false,
    status: 'unclaimed',
  };
}

function claimed(state: JobClaimState, site: string, op: string, at = t0, lease = 60): JobClaimState {
  const decision = decideClaim(state, site, op, at, lease);
  if (decision.kind !== 'claim') {
    throw new Error(`expected a claim, got ${decision.kind}`);
  }
  return decision.next;
}

describe('job claim rules', () => {
  it('claims an unclaimed job with a lease', () => {
    const next = claimed(fresh(), 'a', 'op1');
    expect(next.status).toBe('claimed');
    expect(next.open_claim_sites).toEqual(['a']);
    expect(next.claim_lock).toEqual({ op_id: 'op1', site_id: 'a', expire_time: later(60) });
    expect(next.claims.op1?.expire_time).toEqual(later(60));
  });

  it('gives the same site its open claim back', () => {
    const state = claimed(fresh(), 'a', 'op1');
    expect(decideClaim(state, 'a', 'op2', later(10), 60)).toEqual({ kind: 'reuse', opId: 'op1' });
  });

  it('refuses another site while the lease holds, naming the operation', () => {
    const state = claimed(fresh(), 'a', 'op1');
    expect(decideClaim(state, 'b', 'op2', later(59), 60)).toEqual({
      kind: 'conflict',
      opId: 'op1',
      siteId: 'a',
    });
  });

  it('lets another site take over an expired claim and reports the expired operation', () => {
    const state = claimed(fresh(), 'a', 'op1');
    const decision = decideClaim(state, 'b', 'op2', later(61), 60);
    expect(decision.kind).toBe('claim');
    if (decision.kind === 'claim') {
      expect(decision.expiredOpIds).toEqual(['op1']);
      expect(decision.next.claims.op1?.state).toBe('expired');
      expect(decision.next.open_claim_sites).toEqual(['b']);
      expect(decision.next.claim_lock?.op_id).toBe('op2');
    }
  });

  it('allows several sites at once when the workflow allows parallel claims', () => {
    const state = claimed(claimed(fresh(true), 'a', 'op1'), 'b', 'op2');
    expect(state.open_claim_sites).toEqual(['a', 'b']);
    expect(state.claim_lock).toBeNull();
    expect(decideClaim(state, 'a', 'op3', later(1), 60)).toEqual({ kind: 'reuse', opId: 'op1' });
  });

  it('marks the job done when a claim finishes, and refuses further claims', () => {
    const state = claimed(fresh(), 'a', 'op1');
    const done = finishClaim(state, 'op1', 'done', later(5))!;
    expect(done.status).toBe('done');
    expect(done.completed).toBe(true);
    expect(done.claim_lock).toBeNull();
    expect(done.open_claim_sites).toEqual([]);
    expect(decideClaim(done, 'b', 'op2', later(6), 60)).toEqual({ kind: 'completed' });
    expect(finishClaim(done, 'op1', 'failed', later(7))).toBeNull();
  });

  it('makes a failed or released job claimable again', () => {
    const failed = finishClaim(claimed(fresh(), 'a', 'op1'), 'op1', 'failed', later(5))!;
    expect(failed.status).toBe('failed');
    expect(decideClaim(failed, 'b', 'op2', later(6), 60).kind).toBe('claim');
    const released = finishClaim(claimed(fresh(), 'a', 'op1'), 'op1', 'cancelled', later(5))!;
    expect(released.status).toBe('unclaimed');
    expect(decideClaim(released, 'a', 'op2', later(6), 60).kind).toBe('claim');
  });

  it('reopens a failed job only, until a later claim fails again', () => {
    const failed = finishClaim(claimed(fresh(), 'a', 'op1'), 'op1', 'failed', later(5))!;
    const reopened = reopenJob(failed, later(6))!;
    expect(reopened).toMatchObject({ status: 'unclaimed', reopened_at: later(6) });
    expect(reopenJob(reopened, later(7))).toBeNull();
    const again = decideClaim(reopened, 'a', 'op2', later(8), 60);
    expect(again.kind).toBe('claim');
    const claimedAgain = (again as { next: JobClaimState }).next;
    expect(claimedAgain.status).toBe('claimed');
    expect(reopenJob(claimedAgain, later(9))).toBeNull();
    const failedAgain = finishClaim(claimedAgain, 'op2', 'failed', later(10))!;
    expect(failedAgain.status).toBe('failed');
    expect(reopenJob(fresh(), later(1))).toBeNull();
    expect(
      reopenJob(finishClaim(claimed(fresh(), 'a', 'op1'), 'op1', 'done', later(5))!, later(6)),
    ).toBeNull();
  });

  it('extends an open lease and ignores closed claims', () => {
    const state = claimed(fresh(), 'a', 'op1');
    const extended = extendClaim(state, 'op1', later(500), later(30))!;
    expect(extended.claim_lock?.expire_time).toEqual(later(500));
    expect(decideClaim(extended, 'b', 'op2', later(400), 60).kind).toBe('conflict');
    expect(extendClaim(finishClaim(state, 'op1', 'done', later(1))!, 'op1', later(500), later(2))).toBeNull();
  });

  it('derives the status from the claims alone', () => {
    expect(deriveStatus({}, t0)).toBe('unclaimed');
    const state = claimed(fresh(), 'a', 'op1');
    expect(deriveStatus(state.claims, later(30))).toBe('claimed');
    expect(deriveStatus(state.claims, later(61))).toBe('unclaimed');
  });
});
