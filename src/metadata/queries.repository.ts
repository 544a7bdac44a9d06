import { randomBytes } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import {
  MongoServerError,
  type AbstractCursor,
  type AnyBulkWriteOperation,
  type Collection,
  type Document,
  type Filter,
} from 'mongodb';

import { BadRequestError } from '../common/errors/domain-errors.js';
import { bulkWriteInSlices } from '../infra/mongo/bulk-writes.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { OpenCursors } from '../infra/mongo/open-cursors.js';
import { RevisionLog } from '../infra/mongo/revision-log.js';

/** A stored `queries:run` continuation: what to replay, and how far the caller has read. */
export interface QueryCursorDoc {
  _id: string;
  collection: string;
  kind: 'find' | 'aggregate';
  /** The command's query as JSON text: its `$` keys could not be stored as field names. */
  spec_json: string;
  /** Documents handed out so far. */
  position: number;
  batch_size: number;
  owner: string;
  created_at: Date;
  expires_at: Date;
}

export interface FindSpec {
  readonly filter: Document;
  readonly projection?: Document;
  readonly sort: Document;
  /** Total documents wanted, 0 for all. */
  readonly limit: number;
}

export interface AggregateSpec {
  readonly pipeline: Document[];
}

export interface Backup {
  readonly collection: string;
  readonly op: 'update' | 'delete';
  readonly doc: Document;
  readonly by: string;
  readonly at: Date;
}

const CURSORS = 'query_cursors';
const BACKUPS = 'metadata_backups';
const SCRATCH_PREFIX = '_scratch_queries_';
/**
 * Server errors that say something about the deployment rather than the query; every other server
 * error raised while running a caller's query is the caller's mistake and answers 400.
 */
const SERVER_SIDE_CODES = new Set([6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/** Runs a caller-supplied query, turning Mongo's refusal of it into a 400 that quotes Mongo's reason. */
export async function asCallerQuery<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof MongoServerError && !SERVER_SIDE_CODES.has(Number(error.code))) {
      throw new BadRequestError(`The database refused the query: ${error.message}`, {
        errors: [{ path: 'command', message: error.message }],
        code: 'invalid_query',
      });
    }
    throw error;
  }
}

/**
 * Storage behind `POST /queries:run`: command execution (through {@link OpenCursors}, so getMore
 * usually continues an open cursor), continuations, the scratch overlay where updates are tried before
 * they are validated, backups of changed and deleted documents, and the writes themselves.
 */
@Injectable()
export class QueriesRepository {
  private readonly cursorDocs: Collection<QueryCursorDoc>;
  /** A continuation's position is read, advanced and written back by each getMore. */
  private readonly cursorRevisions: RevisionLog<Omit<QueryCursorDoc, '_id'>>;
  private readonly backups: Collection<Backup>;

  constructor(
    private readonly mongo: MongoService,
    private readonly cursors: OpenCursors,
  ) {
    this.cursorDocs = mongo.collection<QueryCursorDoc>(CURSORS);
    this.cursorRevisions = new RevisionLog<Omit<QueryCursorDoc, '_id'>>(mongo, CURSORS);
    this.backups = mongo.collection<Backup>(BACKUPS);
    mongo.declareIndexes(CURSORS, [{ key: { expires_at: 1 }, name: 'expires_at' }]);
    mongo.declareIndexes(BACKUPS, [
      { key: { collection: 1, 'doc.id': 1 }, name: 'collection_doc_id' },
      { key: { at: 1 }, name: 'at' },
    ]);
  }

  /** Reads `count` documents of a find from `position` on, resuming the open cursor of `session`. */
  readFind(
    collection: string,
    spec: FindSpec,
    session: string,
    position: number,
    count: number,
  ): Promise<Document[]> {
    const remaining = spec.limit > 0 ? spec.limit - position : Number.POSITIVE_INFINITY;
    const wanted = Math.max(0, Math.min(count, remaining));
    if (wanted === 0) {
      return Promise.resolve([]);
    }
    return this.read(session, position, wanted, () => {
      const cursor = this.mongo
        .collection(collection)
        .find(spec.filter, { ...(spec.projection ? { projection: spec.projection } : {}) })
        .sort(spec.sort)
        .skip(position)
        .batchSize(count);
      return spec.limit > 0 ? cursor.limit(spec.limit - position) : cursor;
    });
  }

  readAggregate(
    collection: string,
    spec: AggregateSpec,
    session: string,
    position: number,
    count: number,
  ): Promise<Document[]> {
    return this.read(session, position, count, () =>
      this.mongo
        .collection(collection)
        .aggregate([...spec.pipeline, ...(position > 0 ? [{ $skip: position }] : [])], {
          batchSize: count,
        }),
    );
  }

  /** Every result of a pipeline the store runs, up to `cap` of them (one more tells the caller it overflowed). */
  aggregateAll(collection: string, pipeline: readonly Document[], cap: number): Promise<Document[]> {
    return asCallerQuery(() =>
      this.mongo
        .collection(collection)
        .aggregate([...pipeline, { $limit: cap + 1 }])
        .toArray(),
    );
  }

  /** Documents of `collection` whose `field` equals (or, for arrays, contains) one of `values`. */
  findWhereIn(collection: string, field: string, values: readonly unknown[]): Promise<Document[]> {
    if (values.length === 0) {
      return Promise.resolve([]);
    }
    return asCallerQuery(() =>
      this.mongo
        .collection(collection)
        .find({ [field]: { $in: [...values] } })
        .toArray(),
    );
  }

  count(collection: string, filter: Document): Promise<number> {
    return asCallerQuery(() => this.mongo.collection(collection).countDocuments(filter));
  }

  async saveCursor(doc: QueryCursorDoc): Promise<void> {
    const { _id: id, ...state } = doc;
    await this.cursorRevisions.insert(id, state);
  }

  /**
   * Claims the next batch of a continuation: moves its position past `size(cursor)` documents (and its
   * expiry to `expiresAt`) through the RevisionLog, so two concurrent continuations of one cursor never
   * claim the same documents. Answers the cursor and where the claimed batch starts, or null when the
   * cursor is gone or `size` refuses it (null).
   */
  async claimBatch(
    id: string,
    size: (cursor: QueryCursorDoc) => number | null,
    expiresAt: Date,
  ): Promise<{ cursor: QueryCursorDoc; position: number; count: number } | null> {
    let count = 0;
    const committed = await this.cursorRevisions.update(id, (current) => {
      const wanted = size({ ...current, _id: id });
      if (wanted === null) {
        return null;
      }
      // The change may run again on a newer revision; the count of the run that commits is the one kept.
      count = wanted;
      return { ...current, position: current.position + wanted, expires_at: expiresAt };
    });
    if (!committed?.changed || !committed.doc) {
      return null;
    }
    const cursor = { ...committed.doc, _id: id };
    return { cursor, position: cursor.position - count, count };
  }

  /** Forgets a continuation that is drained, and closes its open cursor if this process has one. */
  async deleteCursor(id: string): Promise<void> {
    this.cursors.discard(`queries:${id}`);
    await this.cursorDocs.deleteOne({ _id: id });
  }

  /** Drops expired continuations and scratch collections left by a process that died mid-update. */
  async sweep(now: Date, scratchMaxAgeMs: number): Promise<{ cursors: number; scratch: number }> {
    const { deletedCount } = await this.cursorDocs.deleteMany({ expires_at: { $lt: now } });
    const names = await this.mongo.db.listCollections({}, { nameOnly: true }).toArray();
    let scratch = 0;
    for (const { name } of names) {
      const created = name.startsWith(SCRATCH_PREFIX)
        ? Number(name.slice(SCRATCH_PREFIX.length).split('_')[0])
        : NaN;
      if (Number.isFinite(created) && created < now.getTime() - scratchMaxAgeMs) {
        await this.mongo.db.dropCollection(name).catch(() => false);
        scratch++;
      }
    }
    return { cursors: deletedCount, scratch };
  }

  /** `_id`s of the documents a statement matches in the collection, or only the first with `one`. */
  matchingIds(collection: string, filter: Document, one: boolean): Promise<unknown[]> {
    return asCallerQuery(async () => {
      const cursor = this.mongo.collection(collection).find(filter, { projection: { _id: 1 } });
      const docs = await (one ? cursor.limit(1) : cursor).toArray();
      return docs.map((doc) => doc._id as unknown);
    });
  }

  /** A private collection to try updates in; the caller must {@link dropScratch} it. */
  createScratchName(): string {
    return `${SCRATCH_PREFIX}${Date.now()}_${randomBytes(6).toString('hex')}`;
  }

  async copyToScratch(scratch: string, docs: readonly Document[]): Promise<void> {
    if (docs.length > 0) {
      await this.mongo.collection(scratch).insertMany(
        docs.map((doc) => ({ ...doc })),
        { ordered: false },
      );
    }
  }

  /** Applies one update statement in the scratch collection; answers how many documents it matched. */
  updateInScratch(scratch: string, filter: Document, update: Document, multi: boolean): Promise<number> {
    return asCallerQuery(async () => {
      const coll = this.mongo.collection(scratch);
      const result = multi ? await coll.updateMany(filter, update) : await coll.updateOne(filter, update);
      return result.matchedCount;
    });
  }

  readScratch(scratch: string): Promise<Document[]> {
    return this.mongo.collection(scratch).find({}).toArray();
  }

  async dropScratch(scratch: string): Promise<void> {
    await this.mongo.db.dropCollection(scratch).catch(() => false);
  }

  async backUp(backups: readonly Backup[]): Promise<void> {
    if (backups.length > 0) {
      await this.backups.insertMany(
        backups.map((b) => ({ ...b })),
        { ordered: false },
      );
    }
  }

  /** Writes validated documents over the stored ones, by `_id`. */
  async replaceAll(collection: string, docs: readonly Document[]): Promise<number> {
    if (docs.length === 0) {
      return 0;
    }
    const operations: AnyBulkWriteOperation[] = docs.map((doc) => ({
      replaceOne: { filter: { _id: doc._id as unknown } as Filter<Document>, replacement: doc },
    }));
    return (await bulkWriteInSlices(this.mongo.collection(collection), operations)).modifiedCount;
  }

  async deleteByMongoIds(collection: string, ids: readonly unknown[]): Promise<number> {
    if (ids.length === 0) {
      return 0;
    }
    const result = await this.mongo.collection(collection).deleteMany({ _id: { $in: [...ids] } } as Document);
    return result.deletedCount;
  }

  private read(
    session: string,
    position: number,
    count: number,
    open: () => AbstractCursor<Document>,
  ): Promise<Document[]> {
    return asCallerQuery(() =>
      this.cursors.continue<Document>({
        session: `queries:${session}`,
        marker: String(position),
        count,
        lookAhead: 1,
        markerAfter: (docs) => String(position + docs.length - 1),
        open,
      }),
    );
  }
}
