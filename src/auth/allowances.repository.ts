import { Injectable } from '@nestjs/common';
import type { Collection } from 'mongodb';

import { insertUnlessDuplicate } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import type { AllowanceAction } from './principal.js';

export interface AllowanceDoc {
  username: string;
  action: AllowanceAction;
  created_by: string;
  created_at: Date;
}

@Injectable()
export class AllowancesRepository {
  private readonly allowances: Collection<AllowanceDoc>;

  constructor(mongo: MongoService) {
    this.allowances = mongo.collection<AllowanceDoc>('allowances');
    mongo.declareIndexes('allowances', [
      { key: { username: 1, action: 1 }, name: 'username_action_unique', unique: true },
    ]);
  }

  async insert(allowance: AllowanceDoc): Promise<boolean> {
    return insertUnlessDuplicate(() => this.allowances.insertOne({ ...allowance }));
  }

  async exists(username: string, action: AllowanceAction): Promise<boolean> {
    return (await this.allowances.countDocuments({ username, action }, { limit: 1 })) === 1;
  }

  find(filter: { username?: string; action?: AllowanceAction }): Promise<AllowanceDoc[]> {
    return this.allowances
      .find(filter, { projection: { _id: 0 } })
      .sort({ username: 1, action: 1 })
      .limit(10_000)
      .toArray();
  }

  async delete(username: string, action: AllowanceAction): Promise<boolean> {
    return (await this.allowances.deleteOne({ username, action })).deletedCount === 1;
  }
}
