import { Injectable } from '@nestjs/common';
import type { Collection, Filter } from 'mongodb';

import type { PageQuery } from '../common/pagination/paginator.js';
import { findPage } from '../infra/mongo/find-page.js';
import { findByKey, type Keyed, keyedBy, writeByKey } from '../infra/mongo/keyed-by-id.js';
import { insertUnlessDuplicate, isDuplicateKeyError, withoutMongoId } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import type { ObjectDoc } from './object.model.js';

/**
 * Who holds a checksum. A unique index on `objects.checksums` cannot do this job: an index over an array
 * is not unique per element on FerretDB, so each checksum gets a document of its own here.
 */
interface ChecksumClaimDoc {
  key: string;
  object_id: string;
  claimed_at: Date;
}

export type ClaimResult = { claimed: true } | { claimed: false; holder: string; key: string };

/** A claim whose object never appeared (its registration crashed) may be taken over after this long. */
const STALE_CLAIM_MS = 60_000;

export type ObjectChanges = Partial<
  Pick<
    ObjectDoc,
    'description' | 'aliases' | 'mime_type' | 'access_methods' | 'controlled' | 'readers' | 'types'
  >
>;

@Injectable()
export class ObjectsRepository {
  private readonly objects: Collection<Keyed<ObjectDoc>>;
  private readonly claims: Collection<ChecksumClaimDoc>;

  constructor(mongo: MongoService) {
    this.objects = mongo.collection<Keyed<ObjectDoc>>('objects');
    this.claims = mongo.collection<ChecksumClaimDoc>('object_checksums');
    mongo.declareIndexes('objects', [
      { key: { id: 1 }, name: 'id_unique', unique: true },
      { key: { child_ids: 1 }, name: 'child_ids' },
      { key: { 'blob.key': 1 }, name: 'blob_key' },
      { key: { types: 1 }, name: 'types' },
      { key: { mgr_site: 1 }, name: 'mgr_site' },
    ]);
    mongo.declareIndexes('object_checksums', [{ key: { key: 1 }, name: 'key_unique', unique: true }]);
  }

  /** Inserts the object; false when its id is taken. */
  async insert(doc: ObjectDoc): Promise<boolean> {
    return insertUnlessDuplicate(() => this.objects.insertOne(keyedBy(doc.id, doc)));
  }

  findById(id: string): Promise<ObjectDoc | null> {
    return findByKey('id', id, {}, (filter) =>
      this.objects.findOne(filter as Filter<Keyed<ObjectDoc>>, { projection: { _id: 0 } }),
    );
  }

  findByIds(ids: readonly string[]): Promise<ObjectDoc[]> {
    if (ids.length === 0) {
      return Promise.resolve([]);
    }
    const filter = ids.length === 1 ? { id: ids[0] } : { id: { $in: [...ids] } };
    // Everything in the first batch: FerretDB v1 may lose a cursor between batches ("cursor id not
    // found") when the driver asks for the next one over another pooled connection.
    return this.objects.find(filter, { projection: { _id: 0 }, batchSize: ids.length }).toArray();
  }

  /** Ids and types of objects carrying any of `types` (indexed), for the trigger sensor. */
  async findTyped(types: readonly string[], limit: number): Promise<{ id: string; types: string[] }[]> {
    if (types.length === 0) {
      return [];
    }
    return this.objects
      .find({ types: { $in: [...types] } }, { projection: { _id: 0, id: 1, types: 1 } })
      .sort({ id: 1 })
      .limit(limit)
      .map((doc) => ({ id: doc.id, types: doc.types }))
      .toArray();
  }

  async existsWithBlobKey(key: string): Promise<boolean> {
    return (await this.objects.countDocuments({ 'blob.key': key }, { limit: 1 })) > 0;
  }

  /** Ids of bundles that list `id` among their direct contents (up to `limit`). */
  async findContainers(id: string, limit = 10): Promise<string[]> {
    const docs = await this.objects
      .find({ child_ids: id }, { projection: { _id: 0, id: 1 } })
      .limit(limit)
      .toArray();
    return docs.map((doc) => doc.id);
  }

  /** Applies `changes` and bumps the version; null when the object does not exist. */
  async update(id: string, changes: ObjectChanges, unset: readonly string[] = []): Promise<ObjectDoc | null> {
    const updated = await findByKey('id', id, {}, (filter) =>
      this.objects.findOneAndUpdate(
        filter as Filter<Keyed<ObjectDoc>>,
        {
          $set: { ...changes, updated_time: new Date().toISOString() },
          $inc: { version: 1 },
          ...(unset.length > 0 ? { $unset: Object.fromEntries(unset.map((field) => [field, ''])) } : {}),
        },
        { returnDocument: 'after' },
      ),
    );
    return withoutMongoId(updated);
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await writeByKey('id', id, {}, async (filter) => {
      return (await this.objects.deleteOne(filter)).deletedCount;
    });
    return deleted === 1;
  }

  findPage(query: PageQuery): Promise<ObjectDoc[]> {
    return findPage(this.objects, 'id', query).then((docs) => docs.map((doc) => withoutMongoId(doc)));
  }

  /**
   * Bundles labelled `type`, newest first: `created_time` then `id`, both descending. `after` is the
   * `<created_time>|<id>` of the last document of the previous page (see {@link newestFirstKey}).
   */
  async findBundlesNewestFirst(type: string, query: PageQuery): Promise<ObjectDoc[]> {
    const conditions: Record<string, unknown>[] = [query.filter, { is_bundle: true, types: type }];
    if (query.after !== undefined) {
      const split = query.after.lastIndexOf('|');
      const time = query.after.slice(0, split);
      const id = query.after.slice(split + 1);
      conditions.push({ $or: [{ created_time: { $lt: time } }, { created_time: time, id: { $lt: id } }] });
    }
    const docs = await this.objects
      .find({ $and: conditions } as Filter<Keyed<ObjectDoc>>, { batchSize: query.limit })
      .sort({ created_time: -1, id: -1 })
      .limit(query.limit)
      .toArray();
    return docs.map((doc) => withoutMongoId(doc));
  }

  countObjects(): Promise<number> {
    return this.objects.countDocuments({});
  }

  /** Bytes of all blobs; bundles are left out because their size repeats their members'. */
  async totalBlobSize(): Promise<number> {
    // One accumulator per $group: FerretDB v1 computes only the first of several correctly.
    const [row] = await this.objects
      .aggregate<{ total: number }>([
        { $match: { is_bundle: false } },
        { $group: { _id: null, total: { $sum: '$size' } } },
      ])
      .toArray();
    return Number(row?.total ?? 0);
  }

  /**
   * Claims every key for `objectId`, or none: on the first key another object holds, the keys claimed
   * so far are released and the holder is returned. A claim left by a registration that crashed
   * before inserting its object is taken over once it is old enough.
   */
  async claimChecksums(keys: readonly string[], objectId: string): Promise<ClaimResult> {
    const claimed: string[] = [];
    for (const key of keys) {
      const holder = await this.claimOne(key, objectId);
      if (holder !== undefined) {
        await this.releaseChecksums(claimed, objectId);
        return { claimed: false, holder, key };
      }
      claimed.push(key);
    }
    return { claimed: true };
  }

  async releaseChecksums(keys: readonly string[], objectId: string): Promise<void> {
    if (keys.length > 0) {
      await this.claims.deleteMany({ key: { $in: [...keys] }, object_id: objectId });
    }
  }

  /** Undefined when claimed; otherwise the id of the object that holds the key. */
  private async claimOne(key: string, objectId: string): Promise<string | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.claims.insertOne({ key, object_id: objectId, claimed_at: new Date() });
        return undefined;
      } catch (error) {
        if (!isDuplicateKeyError(error)) {
          throw error;
        }
      }
      const existing = await this.claims.findOne({ key }, { projection: { _id: 0 } });
      if (!existing) {
        continue;
      }
      const stale =
        existing.claimed_at.getTime() < Date.now() - STALE_CLAIM_MS &&
        (await this.findById(existing.object_id)) === null;
      if (!stale) {
        return existing.object_id;
      }
      // Compare-and-set: only one of several racing registrations replaces the stale holder.
      const taken = await this.claims.updateOne(
        { key, object_id: existing.object_id },
        { $set: { object_id: objectId, claimed_at: new Date() } },
      );
      if (taken.modifiedCount === 1) {
        return undefined;
      }
    }
    const holder = await this.claims.findOne({ key }, { projection: { _id: 0 } });
    return holder?.object_id ?? 'unknown';
  }
}
