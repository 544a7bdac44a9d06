import { Injectable } from '@nestjs/common';
import type { Collection } from 'mongodb';

import { insertUnlessDuplicate } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';

interface RevokedTokenDoc {
  jti: string;
  subject: string;
  /** The token's own expiry: after it the entry is useless and housekeeping removes it. */
  expires_at: Date;
  revoked_at: Date;
}

@Injectable()
export class RevocationsRepository {
  private readonly revoked: Collection<RevokedTokenDoc>;

  constructor(mongo: MongoService) {
    this.revoked = mongo.collection<RevokedTokenDoc>('revoked_tokens');
    mongo.declareIndexes('revoked_tokens', [
      { key: { jti: 1 }, name: 'jti_unique', unique: true },
      { key: { expires_at: 1 }, name: 'expires_at' },
    ]);
  }

  async revoke(jti: string, subject: string, expiresAt: Date): Promise<void> {
    // An insert, not an upsert: two processes upserting one new jti on FerretDB both insert it, and the
    // second fails on the unique index. Here the second finds it revoked already, which is all it wanted.
    await insertUnlessDuplicate(() =>
      this.revoked.insertOne({ jti, subject, expires_at: expiresAt, revoked_at: new Date() }),
    );
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (await this.revoked.countDocuments({ jti }, { limit: 1 })) === 1;
  }

  /** Drops entries of tokens that have expired anyway; returns how many. */
  async sweepExpired(now = new Date()): Promise<number> {
    return (await this.revoked.deleteMany({ expires_at: { $lt: now } })).deletedCount;
  }
}
