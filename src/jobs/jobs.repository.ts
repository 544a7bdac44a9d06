import { Injectable } from '@nestjs/common';
import type { Collection, Filter } from 'mongodb';

import type { PageQuery } from '../common/pagination/paginator.js';
import { findPage } from '../infra/mongo/find-page.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { RevisionLog, STORE_FIELDS_HIDDEN } from '../infra/mongo/revision-log.js';
import { claimRecordsOf, type JobClaimState } from './job-state.js';

export interface JobWorkflowRef {
  id: string;
  name: string;
  capability_ids: string[];
  lease_seconds: number;
}

export interface JobDoc extends JobClaimState {
  id: string;
  workflow: JobWorkflowRef;
  name?: string;
  description?: string;
  config: Record<string, unknown>;
  created_at: Date;
  created_by: string;
  /**
   * Unique for every job: `trigger:<workflow>:<object>` for trigger-created jobs, so one object never
   * gets two jobs of one workflow; `job:<id>` otherwise. Always present because FerretDB has no partial
   * or sparse unique indexes.
   */
  dedupe_key: string;
  version: number;
  updated_at: Date;
}

export interface ClaimsUpdate {
  /** The job as it stands after the update (or as it was, when nothing changed). */
  job: JobDoc;
  /** False when `decide` found nothing to change. */
  changed: boolean;
}

@Injectable()
export class JobsRepository {
  private readonly jobs: Collection<JobDoc>;
  private readonly revisions: RevisionLog<JobDoc>;

  constructor(mongo: MongoService) {
    this.jobs = mongo.collection<JobDoc>('jobs');
    this.revisions = new RevisionLog<JobDoc>(mongo, 'jobs');
    mongo.declareIndexes('jobs', [
      { key: { id: 1 }, name: 'id_unique', unique: true },
      { key: { dedupe_key: 1 }, name: 'dedupe_key_unique', unique: true },
      { key: { 'workflow.id': 1, completed: 1 }, name: 'workflow_completed' },
      { key: { 'config.object_id': 1 }, name: 'config_object_id' },
    ]);
  }

  /** Inserts the job; false when its dedupe key (or id) is taken. */
  insert(job: JobDoc): Promise<boolean> {
    return this.revisions.insert(job.id, job);
  }

  findById(id: string): Promise<JobDoc | null> {
    return this.revisions.read(id);
  }

  findByDedupeKey(key: string): Promise<JobDoc | null> {
    return this.jobs.findOne({ dedupe_key: key }, { projection: STORE_FIELDS_HIDDEN });
  }

  /**
   * Applies `decide` to the latest state of the job until its change is committed (see RevisionLog), each
   * change bumping `version`. `decide` returns the next claim state, or null for "nothing to change"; it
   * may throw to refuse. Null when the job does not exist.
   */
  async updateClaims(
    id: string,
    decide: (job: JobDoc, now: Date) => JobClaimState | null,
  ): Promise<ClaimsUpdate | null> {
    const result = await this.revisions.update(id, (job, now) => {
      const next = decide(job, now);
      if (!next) {
        return null;
      }
      return {
        ...job,
        claims: next.claims,
        claim_records: claimRecordsOf(next.claims),
        open_claim_sites: next.open_claim_sites,
        claim_lock: next.claim_lock,
        completed: next.completed,
        status: next.status,
        reopened_at: next.reopened_at ?? null,
        updated_at: now,
        version: job.version + 1,
      };
    });
    return result?.doc ? { job: result.doc, changed: result.changed } : null;
  }

  /** Housekeeping: forgets revisions long since copied onto their documents. */
  sweepRevisions(cutoff: Date): Promise<number> {
    return this.revisions.sweep(cutoff);
  }

  findPage(query: PageQuery): Promise<JobDoc[]> {
    return findPage(this.jobs, 'id', query);
  }

  /** Which of these (workflow, object) keys already have a job. */
  async existingDedupeKeys(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) {
      return new Set();
    }
    const docs = await this.jobs
      .find({ dedupe_key: { $in: keys } } as Filter<JobDoc>, { projection: { _id: 0, dedupe_key: 1 } })
      .toArray();
    return new Set(docs.map((d) => d.dedupe_key));
  }
}
