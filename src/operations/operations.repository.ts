import { Injectable } from '@nestjs/common';
import type { Collection, Filter } from 'mongodb';

import type { PageQuery } from '../common/pagination/paginator.js';
import { findPage } from '../infra/mongo/find-page.js';
import { findByKey, type Keyed, keyedBy, writeByKey } from '../infra/mongo/keyed-by-id.js';
import { retryTransient, withoutMongoId } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';

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
  private readonly operations: Collection<Keyed<OperationDoc>>;

  constructor(mongo: MongoService) {
    this.operations = mongo.collection<Keyed<OperationDoc>>('operations');
    mongo.declareIndexes('operations', [
      { key: { id: 1 }, name: 'id_unique', unique: true },
      { key: { 'metadata.job.id': 1, 'metadata.site_id': 1, done: 1 }, name: 'job_site_done' },
      { key: { done: 1, expire_time: 1 }, name: 'done_expire_time' },
    ]);
  }

  async insert(operation: OperationDoc): Promise<void> {
    await retryTransient(() => this.operations.insertOne(keyedBy(operation.id, operation)));
  }

  findById(id: string): Promise<OperationDoc | null> {
    return findByKey('id', id, {}, (filter) =>
      this.operations.findOne(filter as Filter<Keyed<OperationDoc>>, { projection: { _id: 0 } }),
    );
  }

  /**
   * Sets fields only while the operation is still open; null when it was already done. Not a
   * compare-and-set on FerretDB: callers decide who may write through the job's claim entry first.
   */
  async setIfOpen(id: string, fields: Record<string, unknown>): Promise<OperationDoc | null> {
    const updated = await findByKey('id', id, { done: false }, (filter) =>
      retryTransient(() =>
        this.operations.findOneAndUpdate(
          filter as Filter<Keyed<OperationDoc>>,
          { $set: fields },
          { returnDocument: 'after' },
        ),
      ),
    );
    return withoutMongoId(updated);
  }

  /** Sets fields (dotted paths allowed, e.g. `metadata.progress`) and returns the operation after. */
  async set(id: string, fields: Record<string, unknown>): Promise<OperationDoc | null> {
    return withoutMongoId(
      await findByKey('id', id, {}, (filter) =>
        retryTransient(() =>
          this.operations.findOneAndUpdate(
            filter as Filter<Keyed<OperationDoc>>,
            { $set: fields },
            { returnDocument: 'after' },
          ),
        ),
      ),
    );
  }

  async delete(id: string): Promise<void> {
    await writeByKey('id', id, {}, async (filter) => {
      return (await this.operations.deleteOne(filter)).deletedCount;
    });
  }

  findOpenForJobAndSite(jobId: string, siteId: string): Promise<OperationDoc[]> {
    return this.operations
      .find({ 'metadata.job.id': jobId, 'metadata.site_id': siteId, done: false }, { projection: { _id: 0 } })
      .toArray();
  }

  countExpiredOpen(now: Date): Promise<number> {
    return this.operations.countDocuments({ done: false, expire_time: { $lte: now } });
  }

  findExpiredOpen(now: Date, limit: number): Promise<OperationDoc[]> {
    return this.operations
      .find({ done: false, expire_time: { $lte: now } }, { projection: { _id: 0 } })
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
