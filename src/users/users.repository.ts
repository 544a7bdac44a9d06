import { Injectable } from '@nestjs/common';
import type { Collection } from 'mongodb';

import type { PageQuery } from '../common/pagination/paginator.js';
import { findPage } from '../infra/mongo/find-page.js';
import { insertUnlessDuplicate, withoutMongoId } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';

export interface UserDoc {
  username: string;
  password_hash: string;
  email?: string;
  full_name?: string;
  is_admin: boolean;
  /** Ids of the sites this user administers. */
  site_admin: string[];
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export type UserChanges = Partial<Omit<UserDoc, 'username' | 'created_at' | 'updated_at'>>;

const COLLECTION = 'users';

@Injectable()
export class UsersRepository {
  private readonly users: Collection<UserDoc>;

  constructor(mongo: MongoService) {
    this.users = mongo.collection<UserDoc>(COLLECTION);
    mongo.declareIndexes(COLLECTION, [{ key: { username: 1 }, name: 'username_unique', unique: true }]);
  }

  /** Inserts the user; false when the username is taken. */
  async insert(user: UserDoc): Promise<boolean> {
    return insertUnlessDuplicate(() => this.users.insertOne({ ...user }));
  }

  findByUsername(username: string): Promise<UserDoc | null> {
    return this.users.findOne({ username }, { projection: { _id: 0 } });
  }

  async update(username: string, changes: UserChanges): Promise<UserDoc | null> {
    const updated = await this.users.findOneAndUpdate(
      { username },
      { $set: { ...changes, updated_at: new Date() } },
      { returnDocument: 'after' },
    );
    return withoutMongoId(updated);
  }

  async addSiteAdmin(username: string, siteId: string): Promise<void> {
    await this.users.updateOne(
      { username },
      { $addToSet: { site_admin: siteId }, $set: { updated_at: new Date() } },
    );
  }

  findPage(query: PageQuery): Promise<UserDoc[]> {
    return findPage(this.users, 'username', query);
  }
}
