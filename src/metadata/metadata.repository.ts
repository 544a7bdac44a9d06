import { Injectable } from '@nestjs/common';
import { BSON, MongoBulkWriteError, type Collection, type Document } from 'mongodb';

import type { PageQuery } from '../common/pagination/paginator.js';
import { bulkWriteInSlices, type BulkCounts } from '../infra/mongo/bulk-writes.js';
import { isDuplicateKeyError } from '../infra/mongo/mongo-errors.js';
import { OpenCursors } from '../infra/mongo/open-cursors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import type { CollectionSpec } from './schema/metadata-schema.js';
import { MetadataSchema } from './schema/metadata-schema.js';

export type MetadataDoc = Record<string, unknown>;

/** A document as stored: `_id` is the id for schema classes with one, else whatever Mongo assigned. */
interface StoredDoc extends Document {
  _id?: string | BSON.ObjectId;
}

const { EJSON } = BSON;

const NAMESPACE_NOT_FOUND = 26;
const WRITE_BATCH = 1000;

/**
 * The positions in the batch an unordered insertMany refused because their id exists; undefined when it
 * failed for any other reason (those documents were not written and the error must surface).
 */
function duplicateIndexes(error: unknown): Set<number> | undefined {
  if (!(error instanceof MongoBulkWriteError)) {
    return undefined;
  }
  const raw: unknown = error.writeErrors;
  const writeErrors = (Array.isArray(raw) ? raw : [raw]) as { code?: unknown; index: number }[];
  if (writeErrors.length === 0 || !writeErrors.every(isDuplicateKeyError)) {
    return undefined;
  }
  return new Set(writeErrors.map((writeError) => writeError.index));
}

/**
 * The key a collection is paged by: `id` where every class has one, else Mongo's `_id` (as extended
 * JSON, so ObjectIds survive the round trip through a page token).
 */
export function pageKeyOf(spec: CollectionSpec): (doc: MetadataDoc) => string {
  return spec.hasId ? (doc) => String(doc.id) : (doc) => EJSON.stringify(doc._id);
}

/** Mongo projection for the requested fields; a field under another requested field is dropped (path collision). */
function projectionOf(fields: readonly string[] | undefined, keepMongoId: boolean): Document {
  const projection: Document = keepMongoId ? {} : { _id: 0 };
  if (!fields) {
    return projection;
  }
  for (const field of fields) {
    if (!fields.some((other) => other !== field && field.startsWith(`${other}.`))) {
      projection[field] = 1;
    }
  }
  if (keepMongoId) {
    projection._id = 1;
  }
  return projection;
}

/**
 * All storage of schema collections. Documents with an `id` are stored with `_id` equal to it: every
 * lookup by id is then a primary-key lookup (on FerretDB the only filter pushed down to SQLite), and
 * the id is unique twice over. Reads never return `_id`, but for {@link findByStoredIds}.
 */
@Injectable()
export class MetadataRepository {
  constructor(
    private readonly mongo: MongoService,
    private readonly schema: MetadataSchema,
    private readonly cursors: OpenCursors,
  ) {
    for (const spec of schema.collections()) {
      mongo.declareIndexes(spec.name, [
        ...(spec.hasId ? [{ key: { id: 1 }, name: 'id_unique', unique: true }] : []),
        ...spec.indexes.map((index) => ({
          key: { ...index.key },
          name: index.name,
          ...(index.unique ? { unique: true } : {}),
        })),
      ]);
    }
  }

  /** The number of documents in a collection, from collection statistics rather than a scan. */
  async count(collection: string): Promise<number> {
    try {
      const [stats] = await this.coll(collection)
        .aggregate<{ count?: number }>([{ $collStats: { count: {} } }])
        .toArray();
      // FerretDB's PostgreSQL storage answers -1 until PostgreSQL has analysed the table.
      if (stats?.count !== undefined && stats.count < 0) {
        return await this.coll(collection).countDocuments({});
      }
      return stats?.count ?? 0;
    } catch (error) {
      if ((error as { code?: unknown }).code === NAMESPACE_NOT_FOUND) {
        return 0;
      }
      throw error;
    }
  }

  countMatching(collection: string, filter: Document): Promise<number> {
    return this.coll(collection).countDocuments(filter);
  }

  /** One keyset page in key order; with a session the cursor stays open for the next page. */
  findPage(spec: CollectionSpec, query: PageQuery): Promise<MetadataDoc[]> {
    const key = spec.hasId ? 'id' : '_id';
    const keyOf = pageKeyOf(spec);
    const filter =
      query.after === undefined
        ? query.filter
        : {
            $and: [
              query.filter,
              {
                [key]: {
                  $gt: spec.hasId ? query.after : (EJSON.parse(query.after, { relaxed: false }) as unknown),
                },
              },
            ],
          };
    const open = () =>
      this.coll(spec.name)
        .find(filter, { projection: projectionOf(query.fields, !spec.hasId) })
        .sort({ [key]: 1 })
        .batchSize(query.limit);
    if (!query.session) {
      return open().limit(query.limit).toArray();
    }
    return this.cursors.continue<MetadataDoc>({
      session: `metadata:${spec.name}:${query.session}`,
      marker: query.after,
      count: query.limit,
      lookAhead: 1,
      markerAfter: (docs) => keyOf(docs[docs.length - 2] ?? {}),
      open,
    });
  }

  /** A page by offset, in the given order (the finders' page-number mode). */
  findSorted(
    collection: string,
    filter: Document,
    sort: Document,
    skip: number,
    limit: number,
    fields?: readonly string[],
  ): Promise<MetadataDoc[]> {
    return this.coll(collection)
      .find(filter, { projection: projectionOf(fields, false) })
      .sort(sort)
      .skip(skip)
      .limit(limit)
      .toArray();
  }

  findById(collection: string, id: string, fields?: readonly string[]): Promise<MetadataDoc | null> {
    return this.coll(collection).findOne({ _id: id }, { projection: projectionOf(fields, false) });
  }

  findByIds(collection: string, ids: readonly string[]): Promise<MetadataDoc[]> {
    if (ids.length === 0) {
      return Promise.resolve([]);
    }
    return this.coll(collection)
      .find({ _id: { $in: [...ids] } }, { projection: { _id: 0 } })
      .toArray();
  }

  /** Documents as stored, `_id` included, by their `_id`: for writers that address documents by it. */
  findByStoredIds(collection: string, storedIds: readonly unknown[]): Promise<Document[]> {
    if (storedIds.length === 0) {
      return Promise.resolve([]);
    }
    return this.coll(collection)
      .find({ _id: { $in: [...storedIds] } } as Document)
      .toArray();
  }

  /** Which of `ids` exist in the collection: one query, whatever the number of ids. */
  async existingIds(collection: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) {
      return new Set();
    }
    const found = await this.coll(collection)
      .find({ _id: { $in: [...ids] } }, { projection: { _id: 1 } })
      .toArray();
    return new Set(found.map((doc) => String(doc._id)));
  }

  /** Inserts new documents and replaces existing ones, by id. */
  async upsert(
    collection: string,
    docs: readonly MetadataDoc[],
  ): Promise<{ inserted: number; replaced: number }> {
    const result = await this.replaceById(collection, docs, true);
    return { inserted: result.upsertedCount, replaced: result.matchedCount };
  }

  /**
   * Replaces stored documents by id; never inserts. Answers how many were found, so a caller can tell
   * when a document vanished under it.
   */
  async replaceExisting(collection: string, docs: readonly MetadataDoc[]): Promise<number> {
    return (await this.replaceById(collection, docs, false)).matchedCount;
  }

  private replaceById(
    collection: string,
    docs: readonly MetadataDoc[],
    upsert: boolean,
  ): Promise<BulkCounts> {
    return bulkWriteInSlices(
      this.coll(collection),
      docs.map((doc) => ({
        replaceOne: { filter: { _id: String(doc.id) }, replacement: { ...doc, _id: String(doc.id) }, upsert },
      })),
    );
  }

  /** Inserts documents that do not exist yet; false-free: a duplicate id is an error the caller checked for. */
  async insert(collection: string, docs: readonly MetadataDoc[]): Promise<number> {
    let inserted = 0;
    for (let start = 0; start < docs.length; start += WRITE_BATCH) {
      const batch = docs.slice(start, start + WRITE_BATCH).map((doc) => ({ ...doc, _id: String(doc.id) }));
      const result = await this.coll(collection).insertMany(batch, { ordered: false });
      inserted += result.insertedCount;
    }
    return inserted;
  }

  /**
   * Upserts by id, cheaply for the common case of an import into an empty or disjoint collection: the
   * batch goes through an unordered insertMany (far faster than one upsert per document, on FerretDB
   * especially, where a `$in` lookup of the batch's ids scans the collection), and only the documents it
   * refuses as duplicate ids are then replaced.
   */
  async insertOrReplace(
    collection: string,
    docs: readonly MetadataDoc[],
  ): Promise<{ inserted: number; replaced: number }> {
    let inserted = 0;
    let replaced = 0;
    for (let start = 0; start < docs.length; start += WRITE_BATCH) {
      const batch = docs.slice(start, start + WRITE_BATCH);
      try {
        inserted += (
          await this.coll(collection).insertMany(
            batch.map((doc) => ({ ...doc, _id: String(doc.id) })),
            { ordered: false },
          )
        ).insertedCount;
      } catch (error) {
        const duplicates = duplicateIndexes(error);
        if (!duplicates) {
          throw error;
        }
        inserted += batch.length - duplicates.size;
        const upserted = await this.upsert(
          collection,
          batch.filter((_, index) => duplicates.has(index)),
        );
        inserted += upserted.inserted;
        replaced += upserted.replaced;
      }
    }
    return { inserted, replaced };
  }

  /** Every document of a collection, in key order, for exports. */
  async *stream(collection: string, batchSize = 1000): AsyncGenerator<MetadataDoc> {
    const spec = this.schema.collection(collection);
    const cursor = this.coll(collection)
      .find({}, { projection: { _id: 0 } })
      .sort({ [spec?.hasId ? 'id' : '_id']: 1 })
      .batchSize(batchSize);
    try {
      for await (const doc of cursor) {
        yield doc;
      }
    } finally {
      await cursor.close();
    }
  }

  private coll(name: string): Collection<StoredDoc> {
    return this.mongo.collection<StoredDoc>(name);
  }
}
