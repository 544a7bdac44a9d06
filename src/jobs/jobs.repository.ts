import { Injectable } from '@nestjs/common';
import type { Collection, Filter } from 'mongodb';

import type { PageQuery } from '../common/pagination/paginator.js';
import { findPage } from '../infra/mongo/find-page.js';
import { findByKey, type Keyed, keyedBy, writeByKey } from '../infra/mongo/keyed-by-id.js';
import { insertUnlessDuplicate, retryTransient } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
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

@Injectable()
export class JobsRepository {
  private readonly jobs: Collection<Keyed<JobDoc>>;

  constructor(mongo: MongoService) {
    this.jobs = mongo.collection<Keyed<JobDoc>>('jobs');
    mongo.declareIndexes('jobs', [
      { key: { id: 1 }, name: 'id_unique', unique: true },
      { key: { dedupe_key: 1 }, name: 'dedupe_key_unique', unique: true },
      { key: { 'workflow.id': 1, completed: 1 }, name: 'workflow_completed' },
      { key: { 'config.object_id': 1 }, name: 'config_object_id' },
    ]);
  }

  /** Inserts the job; false when its dedupe key (or id) is taken. */
  async insert(job: JobDoc): Promise<boolean> {
    return insertUnlessDuplicate(() => retryTransient(() => this.jobs.insertOne(keyedBy(job.id, job))));
  }

  findById(id: string): Promise<JobDoc | null> {
    return findByKey('id', id, {}, (filter) =>
      this.jobs.findOne(filter as Filter<Keyed<JobDoc>>, { projection: { _id: 0 } }),
    );
  }

  findByDedupeKey(key: string): Promise<JobDoc | null> {
    return this.jobs.findOne({ dedupe_key: key }, { projection: { _id: 0 } });
  }

  /**
   * Writes the claim state of version `fromVersion + 1`. Callers must hold that version's slot in the
   * version gate (see JobClaimsStore): the gate, not this filter, is what makes the write exclusive.
   */
  async writeVersion(id: string, fromVersion: number, next: JobClaimState, now: Date): Promise<void> {
    const fields = {
      claims: next.claims,
      claim_records: claimRecordsOf(next.claims),
      open_claim_sites: next.open_claim_sites,
      claim_lock: next.claim_lock,
      completed: next.completed,
      status: next.status,
      reopened_at: next.reopened_at ?? null,
      updated_at: now,
      version: fromVersion + 1,
    };
    await writeByKey('id', id, { version: fromVersion }, async (filter) => {
      const result = await retryTransient(() =>
        this.jobs.updateOne(filter as Filter<Keyed<JobDoc>>, { $set: fields }),
      );
      return result.matchedCount;
    });
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
      .find({ dedupe_key: { $in: keys } } as Filter<Keyed<JobDoc>>, { projection: { _id: 0, dedupe_key: 1 } })
      .toArray();
    return new Set(docs.map((d) => d.dedupe_key));
  }
}
