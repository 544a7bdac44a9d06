import { Injectable } from '@nestjs/common';
import type { Collection } from 'mongodb';

import type { UserDoc } from '../auth/accounts.js';
import type { PageQuery } from '../common/pagination/paginator.js';
import { findPage } from '../infra/mongo/find-page.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { RevisionLog } from '../infra/mongo/revision-log.js';

export type UserChanges = Partial<Omit<UserDoc, 'username' | 'created_at' | 'updated_at'>>;

const COLLECTION = 'users';

@Injectable()
export class UsersRepository {
  private readonly users: Collection<UserDoc>;
  /** Users are named by `username` (unique), not `_id`: their `_id`s were generated from the start. */
  private readonly revisions: RevisionLog<UserDoc>;

  constructor(mongo: MongoService) {
    this.users = mongo.collection<UserDoc>(COLLECTION);
    this.revisions = new RevisionLog<UserDoc>(mongo, COLLECTION, { keyField: 'username' });
    mongo.declareIndexes(COLLECTION, [{ key: { username: 1 }, name: 'username_unique', unique: true }]);
  }

  /** Inserts the user; false when the username is taken. */
  insert(user: UserDoc): Promise<boolean> {
    return this.revisions.insert(user.username, user);
  }

  findByUsername(username: string): Promise<UserDoc | null> {
    return this.revisions.read(username);
  }

  async update(username: string, changes: UserChanges): Promise<UserDoc | null> {
    const result = await this.revisions.update(username, (user, now) => ({
      ...user,
      ...changes,
      updated_at: now,
    }));
    return result?.doc ?? null;
  }

  async addSiteAdmin(username: string, siteId: string): Promise<void> {
    await this.revisions.update(username, (user, now) =>
      user.site_admin.includes(siteId)
        ? null
        : { ...user, site_admin: [...user.site_admin, siteId], updated_at: now },
    );
  }

  findPage(query: PageQuery): Promise<UserDoc[]> {
    return findPage(this.users, 'username', query);
  }
}
