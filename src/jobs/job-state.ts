/**
 * The job-claim rules as pure functions over a job's claim state. The service reads a job, asks these
 * functions what the next state is, and writes it back with a compare-and-set on `version`, so the rules
 * hold under any number of concurrent claimers without multi-document transactions.
 */

export type ClaimState = 'open' | 'done' | 'failed' | 'cancelled' | 'expired';
export type JobStatus = 'unclaimed' | 'claimed' | 'done' | 'failed';

export interface ClaimEntry {
  op_id: string;
  site_id: string;
  claimed_at: Date;
  expire_time: Date;
  state: ClaimState;
  finished_at?: Date;
}

/**
 * A claim as NMDC stores it on a job (`{op_id, site_id, done?, cancelled?}`), kept beside the hub's own
 * claim entries so NMDC's filters over `claims` (e.g. "every claim cancelled") work: `cancelled` marks a
 * claim that no longer holds without a result (released, or its lease ran out), `done` any closed one.
 */
export interface ClaimRecord {
  op_id: string;
  site_id: string;
  done?: true;
  cancelled?: true;
}

export interface ClaimLock {
  op_id: string;
  site_id: string;
  expire_time: Date;
}

export interface JobClaimState {
  parallel_claims: boolean;
  /** Keyed by operation id, so one entry can be updated without positional array operators. */
  claims: Record<string, ClaimEntry>;
  /** The claims in NMDC's shape, oldest first; absent on jobs last changed before it existed. */
  claim_records?: ClaimRecord[];
  /** Sites holding an open claim: lets "claimable by site X" be one indexed query. */
  open_claim_sites: string[];
  /** The exclusive claim of a non-parallel job, if any. */
  claim_lock: ClaimLock | null;
  completed: boolean;
  status: JobStatus;
  /**
   * When the job was last put back up for claiming after it failed (a curator resubmitting a sheet that
   * met a conflict, say). A failure older than this no longer makes the job `failed`.
   */
  reopened_at?: Date | null;
}

export type ClaimDecision =
  | { kind: 'reuse'; opId: string }
  | { kind: 'conflict'; opId: string; siteId: string }
  | { kind: 'completed' }
  | { kind: 'claim'; next: JobClaimState; expiredOpIds: string[] };

function isLive(entry: ClaimEntry, now: Date): boolean {
  return entry.state === 'open' && entry.expire_time.getTime() > now.getTime();
}

export function deriveStatus(
  claims: Record<string, ClaimEntry>,
  now: Date,
  reopenedAt?: Date | null,
): JobStatus {
  const entries = Object.values(claims);
  if (entries.some((e) => e.state === 'done')) {
    return 'done';
  }
  if (entries.some((e) => isLive(e, now))) {
    return 'claimed';
  }
  const finished = entries
    .filter((e) => e.finished_at)
    .sort((a, b) => b.finished_at!.getTime() - a.finished_at!.getTime());
  const last = finished[0];
  if (last?.state !== 'failed') {
    return 'unclaimed';
  }
  return reopenedAt && reopenedAt.getTime() >= last.finished_at!.getTime() ? 'unclaimed' : 'failed';
}

/** The NMDC-shaped view of one claim entry. */
export function claimRecordOf(entry: ClaimEntry): ClaimRecord {
  return {
    op_id: entry.op_id,
    site_id: entry.site_id,
    ...(entry.state !== 'open' ? { done: true as const } : {}),
    ...(entry.state === 'cancelled' || entry.state === 'expired' ? { cancelled: true as const } : {}),
  };
}

export function claimRecordsOf(claims: Record<string, ClaimEntry>): ClaimRecord[] {
  return Object.values(claims)
    .sort((a, b) => a.claimed_at.getTime() - b.claimed_at.getTime())
    .map(claimRecordOf);
}

function withClaims(
  state: JobClaimState,
  claims: Record<string, ClaimEntry>,
  now: Date,
  lock: ClaimLock | null,
): JobClaimState {
  const open = [
    ...new Set(
      Object.values(claims)
        .filter((e) => e.state === 'open')
        .map((e) => e.site_id),
    ),
  ].sort();
  return {
    ...state,
    claims,
    claim_records: claimRecordsOf(claims),
    open_claim_sites: open,
    claim_lock: lock,
    completed: Object.values(claims).some((e) => e.state === 'done'),
    status: deriveStatus(claims, now, state.reopened_at),
  };
}

export function decideClaim(
  state: JobClaimState,
  siteId: string,
  newOpId: string,
  now: Date,
  leaseSeconds: number,
): ClaimDecision {
  const entries = Object.values(state.claims);
  const mine = entries.find((e) => e.site_id === siteId && isLive(e, now));
  if (mine) {
    return { kind: 'reuse', opId: mine.op_id };
  }
  if (state.completed) {
    return { kind: 'completed' };
  }
  if (!state.parallel_claims) {
    const holder = entries.find((e) => isLive(e, now));
    if (holder) {
      return { kind: 'conflict', opId: holder.op_id, siteId: holder.site_id };
    }
  }
  // Open claims past their lease are closed here, so a stale holder never blocks the job; the operations
  // themselves are marked DEADLINE_EXCEEDED by the caller (and by the expire_stale_claims sensor).
  const claims: Record<string, ClaimEntry> = {};
  const expiredOpIds: string[] = [];
  for (const [opId, entry] of Object.entries(state.claims)) {
    if (
      entry.state === 'open' &&
      !isLive(entry, now) &&
      (!state.parallel_claims || entry.site_id === siteId)
    ) {
      claims[opId] = { ...entry, state: 'expired', finished_at: now };
      expiredOpIds.push(opId);
    } else {
      claims[opId] = entry;
    }
  }
  const expireTime = new Date(now.getTime() + leaseSeconds * 1000);
  claims[newOpId] = {
    op_id: newOpId,
    site_id: siteId,
    claimed_at: now,
    expire_time: expireTime,
    state: 'open',
  };
  const lock = state.parallel_claims ? null : { op_id: newOpId, site_id: siteId, expire_time: expireTime };
  return { kind: 'claim', next: withClaims(state, claims, now, lock), expiredOpIds };
}

/** Closes one claim (finished, failed, released or expired); a no-op if it is already closed. */
export function finishClaim(
  state: JobClaimState,
  opId: string,
  outcome: Exclude<ClaimState, 'open'>,
  now: Date,
): JobClaimState | null {
  const entry = state.claims[opId];
  if (!entry || entry.state !== 'open') {
    return null;
  }
  const claims = { ...state.claims, [opId]: { ...entry, state: outcome, finished_at: now } };
  const lock = state.claim_lock?.op_id === opId ? null : state.claim_lock;
  return withClaims(state, claims, now, lock);
}

/** Puts a failed job back up for claiming; null when it has not failed (it is open, claimed or done). */
export function reopenJob(state: JobClaimState, now: Date): JobClaimState | null {
  if (deriveStatus(state.claims, now, state.reopened_at) !== 'failed') {
    return null;
  }
  return { ...state, reopened_at: now, status: deriveStatus(state.claims, now, now) };
}

/** Moves an open claim's lease forward (a heartbeat); null when the claim is no longer open. */
export function extendClaim(
  state: JobClaimState,
  opId: string,
  expireTime: Date,
  now: Date,
): JobClaimState | null {
  const entry = state.claims[opId];
  if (!entry || entry.state !== 'open') {
    return null;
  }
  const claims = { ...state.claims, [opId]: { ...entry, expire_time: expireTime } };
  const lock =
    state.claim_lock?.op_id === opId ? { ...state.claim_lock, expire_time: expireTime } : state.claim_lock;
  return withClaims(state, claims, now, lock);
}

/** The MongoDB filter for "jobs site X may claim now", given the workflows its capabilities allow. */
export function claimableFilter(
  siteId: string,
  workflowIds: readonly string[],
  now: Date,
): Record<string, unknown> {
  return {
    'workflow.id': { $in: workflowIds },
    completed: { $ne: true },
    open_claim_sites: { $ne: siteId },
    $or: [{ parallel_claims: true }, { claim_lock: null }, { 'claim_lock.expire_time': { $lte: now } }],
  };
}
