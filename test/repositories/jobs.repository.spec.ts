import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decideClaim, finishClaim, type JobClaimState } from '../../src/jobs/job-state.js';
import { JobsRepository, type JobDoc } from '../../src/jobs/jobs.repository.js';
import { openRepositoryDb, type RepositoryDb } from './repository-db.js';

function newJob(overrides: Partial<JobDoc> = {}): JobDoc {
  const id = `job-${randomUUID()}`;
  const now = new Date();
  return {
    id,
    workflow: { id: 'wf-test', name: 'Test workflow', capability_ids: [], lease_seconds: 60 },
    config: {},
    created_at: now,
    created_by: 'tester',
    dedupe_key: `job:${id}`,
    version: 1,
    updated_at: now,
    parallel_claims: false,
    claims: {},
    claim_records: [],
    open_claim_sites: [],
    claim_lock: null,
    completed: false,
    status: 'unclaimed',
    ...overrides,
  };
}

/** A `decide` that claims the job for `site` under `opId`, or changes nothing when it cannot. */
function claimFor(site: string, opId: string) {
  return (job: JobClaimState, now: Date): JobClaimState | null => {
    const decision = decideClaim(job, site, opId, now, 60);
    return decision.kind === 'claim' ? decision.next : null;
  };
}

describe('JobsRepository on FerretDB', () => {
  let db: RepositoryDb;
  let jobs: JobsRepository;

  beforeAll(async () => {
    db = openRepositoryDb();
    jobs = new JobsRepository(db.mongo);
    await db.ready();
  });

  afterAll(async () => {
    await db?.close();
  });

  it('inserts a job once: its id and its dedupe key are each unique', async () => {
    const job = newJob();
    expect(await jobs.insert(job)).toBe(true);
    expect(await jobs.insert({ ...job, dedupe_key: `other:${job.id}` })).toBe(false);
    expect(await jobs.insert(newJob({ dedupe_key: job.dedupe_key }))).toBe(false);
    expect(await jobs.findById(job.id)).toMatchObject({ id: job.id, status: 'unclaimed', version: 1 });
    expect(await jobs.findByDedupeKey(job.dedupe_key)).toMatchObject({ id: job.id });
    expect(await jobs.existingDedupeKeys([job.dedupe_key, 'job:nobody'])).toEqual(new Set([job.dedupe_key]));
  });

  it('claims and releases through the revision log, bumping the version on each change', async () => {
    const job = newJob();
    await jobs.insert(job);

    const claimed = await jobs.updateClaims(job.id, claimFor('site-a', 'op-1'));
    expect(claimed?.changed).toBe(true);
    expect(claimed?.job).toMatchObject({
      status: 'claimed',
      version: 2,
      open_claim_sites: ['site-a'],
      claim_lock: { op_id: 'op-1', site_id: 'site-a' },
      claim_records: [{ op_id: 'op-1', site_id: 'site-a' }],
    });

    // An exclusive job held by one site refuses another: nothing is written.
    const refused = await jobs.updateClaims(job.id, claimFor('site-b', 'op-2'));
    expect(refused).toMatchObject({ changed: false, job: { version: 2, status: 'claimed' } });

    const released = await jobs.updateClaims(job.id, (current, now) =>
      finishClaim(current, 'op-1', 'cancelled', now),
    );
    expect(released?.job).toMatchObject({
      status: 'unclaimed',
      version: 3,
      open_claim_sites: [],
      claim_lock: null,
      claim_records: [{ op_id: 'op-1', site_id: 'site-a', cancelled: true, done: true }],
    });

    const reclaimed = await jobs.updateClaims(job.id, claimFor('site-b', 'op-2'));
    expect(reclaimed?.job).toMatchObject({ status: 'claimed', version: 4, open_claim_sites: ['site-b'] });
    expect(await jobs.findById(job.id)).toEqual(reclaimed?.job);
  });

  it('lets exactly one of many concurrent claimers hold an exclusive job', async () => {
    const job = newJob();
    await jobs.insert(job);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => jobs.updateClaims(job.id, claimFor(`site-${i}`, `op-${i}`))),
    );
    expect(results.filter((r) => r?.changed)).toHaveLength(1);
    const stored = await jobs.findById(job.id);
    expect(stored?.version).toBe(2);
    expect(Object.keys(stored?.claims ?? {})).toHaveLength(1);
  });

  it('answers null for a job that does not exist', async () => {
    expect(await jobs.findById('job-missing')).toBeNull();
    expect(await jobs.updateClaims('job-missing', claimFor('site-a', 'op-1'))).toBeNull();
  });

  it('pages through jobs in id order', async () => {
    const page = await jobs.findPage({ filter: {}, limit: 2 });
    expect(page.length).toBe(2);
    expect(page[0]!.id < page[1]!.id).toBe(true);
  });
});
