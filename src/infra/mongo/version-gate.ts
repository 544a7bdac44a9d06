import type { Collection, Filter } from 'mongodb';

import { findByKey } from './keyed-by-id.js';

import { isDuplicateKeyError, retryTransient } from './mongo-errors.js';
import type { MongoService } from './mongo.service.js';

interface SlotDoc<T> {
  _id: string;
  /** `<entity id>:<version>` — unique: only one writer may produce each version. */
  key: string;
  entity_id: string;
  version: number;
  state: T;
  created_at: Date;
}

/**
 * Compare-and-set for documents, built on a unique index rather than on conditional updates.
 *
 * FerretDB v1 evaluates `findOneAndUpdate({version: v}, …)` as a read followed by a write, so under
 * contention several writers "win" the same version (measured: 119 winners for 10 versions with 64
 * writers). Unique-index inserts, however, are enforced by the storage engine on both FerretDB and
 * MongoDB. So a writer first claims the slot for the version it wants to create; exactly one writer
 * can, and only that writer then updates the document. The slot also records the state, so if its
 * writer dies between the two steps a later writer rolls the state forward instead of waiting forever.
 */
export class VersionGate<T> {
  private readonly slots: Collection<SlotDoc<T>>;

  constructor(
    mongo: MongoService,
    collection: string,
    private readonly staleAfterMs = 10_000,
  ) {
    this.slots = mongo.collection<SlotDoc<T>>(collection);
    mongo.declareIndexes(collection, [
      { key: { key: 1 }, name: 'key_unique', unique: true },
      { key: { created_at: 1 }, name: 'created_at' },
    ]);
  }

  /** Claims the right to write `version` of `entityId`; false when another writer holds it. */
  async claim(entityId: string, version: number, state: T): Promise<boolean> {
    try {
      await retryTransient(() =>
        this.slots.insertOne({
          // The key doubles as `_id`: FerretDB finds a document by `_id` without scanning.
          _id: `${entityId}:${version}`,
          key: `${entityId}:${version}`,
          entity_id: entityId,
          version,
          state,
          created_at: new Date(),
        }),
      );
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) {
        return false;
      }
      throw error;
    }
  }

  /**
   * The state a writer claimed for `version` but may never have written, if its claim is old enough that
   * the writer must be gone. Rolling forward a live writer's state could race with it, hence the delay.
   */
  async abandoned(entityId: string, version: number, now = new Date()): Promise<T | null> {
    const slot = await findByKey('key', `${entityId}:${version}`, {}, (filter) =>
      this.slots.findOne(filter as Filter<SlotDoc<T>>),
    );
    if (!slot || now.getTime() - slot.created_at.getTime() < this.staleAfterMs) {
      return null;
    }
    return slot.state;
  }

  /** Drops slots older than `cutoff`: by then their versions were written or rolled forward. */
  async sweep(cutoff: Date): Promise<number> {
    return (await this.slots.deleteMany({ created_at: { $lt: cutoff } })).deletedCount;
  }
}
