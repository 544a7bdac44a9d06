import { Injectable } from '@nestjs/common';
import type { Collection, Filter } from 'mongodb';

import type { PageQuery } from '../common/pagination/paginator.js';
import { findPage } from '../infra/mongo/find-page.js';
import { withFieldsUnset } from '../infra/mongo/document-changes.js';
import { withoutMongoId } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { RevisionLog, STORE_FIELDS_HIDDEN } from '../infra/mongo/revision-log.js';
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
  private readonly objects: Collection<ObjectDoc>;
  private readonly revisions: RevisionLog<ObjectDoc>;
  private readonly claims: Collection<ChecksumClaimDoc>;
  /** Claims are named by `key` (unique); their `_id`s were generated from the start. */
  private readonly claimRevisions: RevisionLog<ChecksumClaimDoc>;

  constructor(mongo: MongoService) {
    this.objects = mongo.collection<ObjectDoc>('objects');
    this.revisions = new RevisionLog<ObjectDoc>(mongo, 'objects');
    this.claims = mongo.collection<ChecksumClaimDoc>('object_checksums');
    this.claimRevisions = new RevisionLog<ChecksumClaimDoc>(mongo, 'object_checksums', { keyField: 'key' });
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
  insert(doc: ObjectDoc): Promise<boolean> {
    return this.revisions.insert(doc.id, doc);
  }

  findById(id: string): Promise<ObjectDoc | null> {
    return this.revisions.read(id);
  }

  findByIds(ids: readonly string[]): Promise<ObjectDoc[]> {
    if (ids.length === 0) {
      return Promise.resolve([]);
    }
    const filter = ids.length === 1 ? { id: ids[0] } : { id: { $in: [...ids] } };
    // Everything in the first batch: FerretDB v1 may lose a cursor between batches ("cursor id not
    // found") when the driver asks for the next one over another pooled connection.
    return this.objects.find(filter, { projection: STORE_FIELDS_HIDDEN, batchSize: ids.length }).toArray();
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
    const result = await this.revisions.update(id, (doc, now) => ({
      ...withFieldsUnset(doc, unset),
      ...changes,
      updated_time: now.toISOString(),
      version: (doc.version ?? 0) + 1,
    }));
    return result?.doc ?? null;
  }

  delete(id: string): Promise<boolean> {
    return this.revisions.delete(id);
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
      .find({ $and: conditions } as Filter<ObjectDoc>, {
        batchSize: query.limit,
        projection: STORE_FIELDS_HIDDEN,
      })
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

  /** Drops the claims `objectId` holds among `keys`, leaving any another object took over. */
  async releaseChecksums(keys: readonly string[], objectId: string): Promise<void> {
    for (const key of keys) {
      await this.claimRevisions.delete(key, (claim) => claim.object_id !== objectId);
    }
  }

  /** Undefined when claimed; otherwise the id of the object that holds the key. */
  private async claimOne(key: string, objectId: string): Promise<string | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.claimRevisions.insert(key, { key, object_id: objectId, claimed_at: new Date() })) {
        return undefined;
      }
      const existing = await this.claimRevisions.read(key);
      if (!existing) {
        continue;
      }
      const stale =
        existing.claimed_at.getTime() < Date.now() - STALE_CLAIM_MS &&
        (await this.findById(existing.object_id)) === null;
      if (!stale) {
        return existing.object_id;
      }
      // Only one of several racing registrations replaces the stale holder: the others find it replaced.
      const taken = await this.claimRevisions.update(key, (claim, now) =>
        claim.object_id === existing.object_id ? { ...claim, object_id: objectId, claimed_at: now } : null,
      );
      if (taken?.changed) {
        return undefined;
      }
    }
    const holder = await this.claimRevisions.read(key);
    return holder?.object_id ?? 'unknown';
  }
}
