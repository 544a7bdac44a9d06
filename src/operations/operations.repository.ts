import { Injectable } from '@nestjs/common';
import type { Collection } from 'mongodb';

import type { PageQuery } from '../common/pagination/paginator.js';
import { findPage } from '../infra/mongo/find-page.js';
import { withFieldsSet } from '../infra/mongo/document-changes.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { RevisionLog, STORE_FIELDS_HIDDEN } from '../infra/mongo/revision-log.js';

export interface OperationError {
  code: string;
  message: string;
  details?: unknown;
}

export interface OperationDoc {
  id: string;
  done: boolean;
  expire_time: Date;
  result?: unknown;
  error?: OperationError;
  cancelled?: boolean;
  metadata: {
    job: { id: string; workflow: { id: string }; config: Record<string, unknown> };
    site_id: string;
    model: 'job-operation';
    [key: string]: unknown;
  };
  created_at: Date;
  updated_at: Date;
  done_at?: Date;
}

@Injectable()
export class OperationsRepository {
  private readonly operations: Collection<OperationDoc>;
  private readonly revisions: RevisionLog<OperationDoc>;

  constructor(mongo: MongoService) {
    this.operations = mongo.collection<OperationDoc>('operations');
    this.revisions = new RevisionLog<OperationDoc>(mongo, 'operations');
    mongo.declareIndexes('operations', [
      { key: { id: 1 }, name: 'id_unique', unique: true },
      { key: { 'metadata.job.id': 1, 'metadata.site_id': 1, done: 1 }, name: 'job_site_done' },
      { key: { done: 1, expire_time: 1 }, name: 'done_expire_time' },
    ]);
  }

  async insert(operation: OperationDoc): Promise<void> {
    if (!(await this.revisions.insert(operation.id, operation))) {
      throw new Error(`Operation id "${operation.id}" is taken`);
    }
  }

  findById(id: string): Promise<OperationDoc | null> {
    return this.revisions.read(id);
  }

  /** Sets fields (dotted paths allowed) only while the operation is still open; null when it was done. */
  async setIfOpen(id: string, fields: Record<string, unknown>): Promise<OperationDoc | null> {
    const result = await this.revisions.update(id, (operation) =>
      operation.done ? null : withFieldsSet(operation, fields),
    );
    return result?.changed ? result.doc : null;
  }

  /** Sets fields (dotted paths allowed, e.g. `metadata.progress`) and returns the operation after. */
  async set(id: string, fields: Record<string, unknown>): Promise<OperationDoc | null> {
    return (await this.revisions.update(id, (operation) => withFieldsSet(operation, fields)))?.doc ?? null;
  }

  async delete(id: string): Promise<void> {
    await this.revisions.delete(id);
  }

  findOpenForJobAndSite(jobId: string, siteId: string): Promise<OperationDoc[]> {
    return this.operations
      .find(
        { 'metadata.job.id': jobId, 'metadata.site_id': siteId, done: false },
        { projection: STORE_FIELDS_HIDDEN },
      )
      .toArray();
  }

  countExpiredOpen(now: Date): Promise<number> {
    return this.operations.countDocuments({ done: false, expire_time: { $lte: now } });
  }

  findExpiredOpen(now: Date, limit: number): Promise<OperationDoc[]> {
    return this.operations
      .find({ done: false, expire_time: { $lte: now } }, { projection: STORE_FIELDS_HIDDEN })
      .limit(limit)
      .toArray();
  }

  async deleteFinishedBefore(cutoff: Date): Promise<number> {
    return (await this.operations.deleteMany({ done: true, done_at: { $lt: cutoff } })).deletedCount;
  }

  findPage(query: PageQuery): Promise<OperationDoc[]> {
    return findPage(this.operations, 'id', query);
  }
}
