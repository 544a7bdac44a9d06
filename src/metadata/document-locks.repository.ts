import { Injectable } from '@nestjs/common';
import { BSON, type Collection } from 'mongodb';

import { isDuplicateKeyError, retryTransient } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { RevisionLog } from '../infra/mongo/revision-log.js';

interface LockDoc {
  /** `collection/_id` of the locked document. */
  readonly _id: string;
  readonly owner: string;
  readonly expires_at: Date;
}

type LockState = Omit<LockDoc, '_id'>;

const LOCKS = 'metadata_document_locks';
/** A release this close to the locks' expiry takes the careful path, as a takeover may be under way. */
const RELEASE_MARGIN_MS = 2_000;
/** Locks are inserted in slices of this many, so a large write is not one huge insert. */
const LOCK_BATCH = 1000;

/**
 * Short write locks on metadata documents, for the writers that replace documents they read before
 * (changesheets, queries:run update and delete): a writer locks what it will change, checks it is
 * still as it read it, writes and unlocks, so no write is lost between another's read and write.
 * Writers that replace documents without reading them (imports, upserts) take the same locks, so their
 * replace never lands between a locked writer's check and write.
 *
 * A lock is a document whose unique `_id` names the locked document, which makes it exclusive even
 * where conditional updates are not atomic (FerretDB). A lock past its expiry was left by a dead
 * writer and is taken over.
 */
@Injectable()
export class DocumentLocksRepository {
  /** Taking over and releasing a lock read it first, so they go through the RevisionLog. */
  private readonly revisions: RevisionLog<LockState>;
  /** When the locks each owner in this process took expire (owners are unique per writer). */
  private readonly expiries = new Map<string, number>();

  constructor(private readonly mongo: MongoService) {
    this.revisions = new RevisionLog<LockState>(mongo, LOCKS);
  }

  static key(collection: string, id: string): string {
    return `${collection}/${id}`;
  }

  /** The lock key of a document by its stored `_id`: the id itself when it is a string (as it is for ids). */
  static keyOfStored(collection: string, storedId: unknown): string {
    return DocumentLocksRepository.key(
      collection,
      typeof storedId === 'string' ? storedId : BSON.EJSON.stringify({ id: storedId }),
    );
  }

  /** Takes every lock for `owner`, or none: answers the keys others hold (then `owner` holds nothing). */
  async acquire(keys: readonly string[], owner: string, ttlMs: number): Promise<string[]> {
    const expires = new Date(Date.now() + ttlMs);
    this.expiries.set(owner, expires.getTime());
    const held: string[] = [];
    for (let start = 0; start < keys.length; start += LOCK_BATCH) {
      const slice = keys.slice(start, start + LOCK_BATCH);
      try {
        await retryTransient(() =>
          this.locks.insertMany(
            slice.map((key) => ({ _id: key, owner, expires_at: expires })),
            { ordered: false },
          ),
        );
        continue;
      } catch (error) {
        if (!isDuplicateKeyError(error)) {
          await this.release(owner);
          throw error;
        }
      }
      // Some keys are held: take over the expired ones, report the others.
      const now = Date.now();
      for (const lock of await this.locks.find({ _id: { $in: slice } }).toArray()) {
        if (lock.owner === owner || lock.expires_at.getTime() >= now) {
          continue;
        }
        // Only one of several writers taking over the same expired lock commits the change.
        await this.revisions.update(lock._id, (current, at) =>
          current.owner === lock.owner && current.expires_at.getTime() < at.getTime()
            ? { owner, expires_at: expires }
            : null,
        );
      }
      const mine = new Set(
        (await this.locks.find({ _id: { $in: slice } }).toArray())
          .filter((lock) => lock.owner === owner)
          .map((lock) => lock._id),
      );
      held.push(...slice.filter((key) => !mine.has(key)));
    }
    if (held.length > 0) {
      await this.release(owner);
    }
    return held;
  }

  /**
   * Runs `work` holding every lock in `keys` for `owner`, and releases them after it. When another writer
   * holds some of them, `work` does not run and the error `refuse` makes of the held keys is thrown.
   */
  async whileHolding<T>(
    keys: readonly string[],
    owner: string,
    ttlMs: number,
    refuse: (held: readonly string[]) => Error,
    work: () => Promise<T>,
  ): Promise<T> {
    const held = await this.acquire(keys, owner, ttlMs);
    if (held.length > 0) {
      throw refuse(held);
    }
    try {
      return await work();
    } finally {
      await this.release(owner);
    }
  }

  /**
   * Drops the locks `owner` holds. Each goes through the RevisionLog, so a lock that expired and was taken
   * over by another writer in the meantime stays with that writer.
   */
  async release(owner: string): Promise<void> {
    const expires = this.expiries.get(owner);
    this.expiries.delete(owner);
    if (expires !== undefined && Date.now() < expires - RELEASE_MARGIN_MS) {
      // Nobody takes over a lock before it expires, so all of them are still this owner's.
      await retryTransient(() => this.locks.deleteMany({ owner }));
      return;
    }
    const held = await retryTransient(() => this.locks.find({ owner }, { projection: { _id: 1 } }).toArray());
    for (const { _id: key } of held) {
      await this.revisions.delete(key, (lock) => lock.owner !== owner);
    }
  }

  private get locks(): Collection<LockDoc> {
    return this.mongo.collection<LockDoc>(LOCKS);
  }
}
