import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Injectable } from '@nestjs/common';

import { ConflictError, UnprocessableError, type FieldProblem } from '../common/errors/domain-errors.js';
import { unprocessable } from '../common/errors/problems.js';
import { PidsService } from '../pids/pids.service.js';
import { DocumentLocksRepository } from './document-locks.repository.js';
import { canonicalJson, escapePointer, isJsonObject as isObject } from './json-document.js';
import { MetadataRepository, type MetadataDoc } from './metadata.repository.js';
import { MetadataSchema, type CollectionSpec } from './schema/metadata-schema.js';

/** A JSON submission split by collection, after its shape was checked. */
export type MetadataBatch = ReadonlyMap<string, readonly MetadataDoc[]>;

export interface BatchCheck {
  readonly problems: FieldProblem[];
  readonly batch: Map<string, MetadataDoc[]>;
  readonly documentCount: number;
}

export interface PutResult {
  readonly inserted: number;
  readonly replaced: number;
  /** Documents already stored exactly as given (a retried insert). */
  readonly unchanged: number;
}

const DATABASE_TYPES = new Set(['Database', 'nmdc:Database']);
/** How long a replacing writer holds its document locks at most (it holds them for one batch's write). */
const REPLACE_LOCK_TTL_MS = 60_000;
/** How long a replacing writer waits for documents another writer (a changesheet, a query) has locked. */
const REPLACE_LOCK_WAIT_MS = 120_000;

/** Thrown inside a lock attempt when another writer holds some of the documents. */
class DocumentsHeld extends Error {
  constructor(readonly held: readonly string[]) {
    super(`${held.length} document(s) are locked by another writer`);
  }
}

function countsOf(batch: MetadataBatch): Record<string, number> {
  return Object.fromEntries([...batch].map(([name, docs]) => [name, docs.length]));
}

/**
 * The metadata collections as other features use them in process (changesheets, exports, the
 * metadata-in job): validation against the schema, id → collection by typecode, and reads and writes
 * that keep every stored document schema-valid.
 */
@Injectable()
export class MetadataStore {
  constructor(
    readonly schema: MetadataSchema,
    private readonly documents: MetadataRepository,
    private readonly pids: PidsService,
    private readonly locks: DocumentLocksRepository,
  ) {}

  collectionSpec(name: string): CollectionSpec | undefined {
    return this.schema.collection(name);
  }

  /**
   * Collections to look in for an id: those its typecode names (e.g. `nmdc:bsm-…` → biosample_set), or,
   * when the schema gives it none (a schema without typecodes, such as the published `nmdc.schema.json`
   * with its one generic id pattern), every collection whose documents are addressed by id. Each look-up
   * is a primary-key read, so searching them all stays cheap.
   */
  collectionsForId(id: string): string[] {
    const byTypecode = this.schema.collectionsForId(id);
    return byTypecode.length > 0 ? byTypecode : this.idCollections();
  }

  /** Every collection whose documents are addressed (and stored) by id. */
  idCollections(): string[] {
    return this.schema
      .collections()
      .filter((c) => c.hasId)
      .map((c) => c.name);
  }

  collectionsForTypecode(typecode: string): string[] {
    return [...new Set(this.schema.classesForTypecode(typecode).flatMap((c) => c.collections))];
  }

  /** Schema problems of documents meant for one collection, with pointers `/<index>/…`. */
  validateDocuments(collection: string, docs: readonly unknown[]): FieldProblem[] {
    return docs.flatMap((doc, i) => this.schema.validateDocument(collection, doc, `/${i}`));
  }

  /**
   * Checks a `Database`-shaped payload (`{"biosample_set": [...], …}`) without touching the store:
   * known collections only, arrays of schema-valid documents, no id twice.
   */
  checkBatch(payload: unknown): BatchCheck {
    const problems: FieldProblem[] = [];
    const batch = new Map<string, MetadataDoc[]>();
    let documentCount = 0;
    if (!isObject(payload)) {
      return {
        problems: [{ path: '/', message: 'must be a JSON object keyed by collection name' }],
        batch,
        documentCount,
      };
    }
    const seen = new Map<string, string>();
    for (const [name, value] of Object.entries(payload)) {
      const at = `/${escapePointer(name)}`;
      if (name === '@type') {
        if (typeof value !== 'string' || !DATABASE_TYPES.has(value)) {
          problems.push({ path: at, message: 'must be "Database" or "nmdc:Database" when given' });
        }
        continue;
      }
      const spec = this.schema.collection(name);
      if (!spec) {
        problems.push({
          path: at,
          message: `is not a metadata collection; known: ${this.schema
            .collections()
            .map((c) => c.name)
            .join(', ')}`,
        });
        continue;
      }
      if (value === null) {
        continue;
      }
      if (!Array.isArray(value)) {
        problems.push({ path: at, message: 'must be an array of documents' });
        continue;
      }
      const docs: MetadataDoc[] = [];
      value.forEach((doc: unknown, i) => {
        const docAt = `${at}/${i}`;
        problems.push(...this.schema.validateDocument(name, doc, docAt));
        if (!isObject(doc)) {
          return;
        }
        docs.push(doc);
        if (spec.hasId && typeof doc.id === 'string') {
          const first = seen.get(doc.id);
          if (first) {
            problems.push({ path: `${docAt}/id`, message: `duplicates the id at ${first}/id` });
          } else {
            seen.set(doc.id, docAt);
          }
        }
      });
      documentCount += docs.length;
      batch.set(name, [...(batch.get(name) ?? []), ...docs]);
    }
    return { problems, batch, documentCount };
  }

  /**
   * Checks a batch against the store: its ids must be new, and every id it refers to must be in the
   * batch itself or already stored. One query per collection involved.
   */
  async checkBatchAgainstStore(batch: MetadataBatch): Promise<FieldProblem[]> {
    return [...(await this.existingIdProblems(batch)), ...(await this.referenceProblems(batch))];
  }

  /** Ids of the batch that are already stored. */
  async existingIdProblems(batch: MetadataBatch): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    for (const [collection, docs] of batch) {
      const ids = docs.map((doc) => doc.id).filter((id): id is string => typeof id === 'string');
      const existing = await this.documents.existingIds(collection, ids);
      docs.forEach((doc, i) => {
        if (typeof doc.id === 'string' && existing.has(doc.id)) {
          problems.push({
            path: `/${escapePointer(collection)}/${i}/id`,
            message: `${doc.id} already exists in ${collection}; change stored documents with queries:run update or a changesheet`,
          });
        }
      });
    }
    return problems;
  }

  /** References (`associated_studies`, `has_input`, …) to ids found neither in the batch nor in the store. */
  async referenceProblems(batch: MetadataBatch): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    const inBatch = new Set<string>();
    for (const docs of batch.values()) {
      for (const doc of docs) {
        if (typeof doc.id === 'string') {
          inBatch.add(doc.id);
        }
      }
    }
    const unresolved = new Map<string, { path: string; id: string }[]>();
    for (const [collection, docs] of batch) {
      docs.forEach((doc, i) => {
        for (const ref of this.schema.referencesOf(collection, doc, `/${escapePointer(collection)}/${i}`)) {
          if (!inBatch.has(ref.id)) {
            unresolved.set(ref.id, [...(unresolved.get(ref.id) ?? []), ref]);
          }
        }
      });
    }
    const byCollection = new Map<string, string[]>();
    for (const id of unresolved.keys()) {
      for (const collection of this.collectionsForId(id)) {
        byCollection.set(collection, [...(byCollection.get(collection) ?? []), id]);
      }
    }
    const found = new Set<string>();
    for (const [collection, ids] of byCollection) {
      for (const id of await this.documents.existingIds(collection, ids)) {
        found.add(id);
      }
    }
    for (const [id, refs] of unresolved) {
      if (found.has(id)) {
        continue;
      }
      for (const ref of refs) {
        const byTypecode = this.schema.collectionsForId(id);
        problems.push({
          path: ref.path,
          message: `refers to ${id}, which is neither in this submission nor stored in ${
            byTypecode.length > 0 ? byTypecode.join(' or ') : 'any collection'
          }`,
        });
      }
    }
    return problems;
  }

  /**
   * Documents (outside `excluded`) whose reference slots name one of `ids`: what deleting those ids
   * would leave with broken references. At most `limit` are returned; one query per collection.
   */
  async referrersOf(
    ids: readonly string[],
    excluded: ReadonlySet<string>,
    limit = 20,
  ): Promise<{ collection: string; id: string; refersTo: string }[]> {
    if (ids.length === 0) {
      return [];
    }
    const wanted = new Set(ids);
    const found: { collection: string; id: string; refersTo: string }[] = [];
    for (const spec of this.schema.collections()) {
      const slots = [
        ...new Set(
          spec.classes.flatMap((name) => [...(this.schema.classNamed(name)?.references.keys() ?? [])]),
        ),
      ];
      if (slots.length === 0 || !spec.hasId) {
        continue;
      }
      const filter = { $or: slots.map((slot) => ({ [slot]: { $in: [...ids] } })) };
      for (const doc of await this.documents.findSorted(
        spec.name,
        filter,
        { id: 1 },
        0,
        limit + excluded.size,
      )) {
        if (found.length >= limit || excluded.has(String(doc.id))) {
          continue;
        }
        const ref = this.schema.referencesOf(spec.name, doc).find((r) => wanted.has(r.id));
        if (ref) {
          found.push({ collection: spec.name, id: String(doc.id), refersTo: ref.id });
        }
      }
    }
    return found;
  }

  async getDocument(collection: string, id: string, fields?: readonly string[]): Promise<MetadataDoc | null> {
    return this.documents.findById(collection, id, fields);
  }

  /** Documents of a collection matching a filter, id order, by offset (`limit` 0 means all of them). */
  findMatching(
    collection: string,
    filter: Record<string, unknown>,
    skip = 0,
    limit = 0,
  ): Promise<MetadataDoc[]> {
    return this.documents.findSorted(collection, filter, { id: 1 }, skip, limit);
  }

  countMatching(collection: string, filter: Record<string, unknown>): Promise<number> {
    return this.documents.countMatching(collection, filter);
  }

  getDocuments(collection: string, ids: readonly string[]): Promise<MetadataDoc[]> {
    return this.documents.findByIds(collection, ids);
  }

  /** Finds a document by id alone, in the collections {@link collectionsForId} names. */
  async findDocument(id: string): Promise<{ collection: string; document: MetadataDoc } | null> {
    for (const collection of this.collectionsForId(id)) {
      const document = await this.documents.findById(collection, id);
      if (document) {
        return { collection, document };
      }
    }
    return null;
  }

  /**
   * Writes documents after validating every one (422 with pointers `/<index>/…` otherwise).
   * `insert` refuses ids that are stored with different content (identical ones count as unchanged,
   * so a retried job is harmless); `upsert` replaces stored documents.
   */
  async putDocuments(
    collection: string,
    docs: readonly MetadataDoc[],
    mode: 'insert' | 'upsert',
    at = '',
  ): Promise<PutResult> {
    const spec = this.schema.collection(collection);
    if (!spec?.hasId) {
      throw new UnprocessableError(
        spec
          ? `${collection} holds documents without ids, which this hub cannot address`
          : `${collection} is not a metadata collection`,
      );
    }
    const problems = docs.flatMap((doc, i) => this.schema.validateDocument(collection, doc, `${at}/${i}`));
    if (problems.length > 0) {
      throw unprocessable(`Documents for ${collection} do not match the schema`, problems);
    }
    if (docs.length === 0) {
      return { inserted: 0, replaced: 0, unchanged: 0 };
    }
    const ids = docs.map((doc) => String(doc.id));
    let result: PutResult;
    if (mode === 'upsert') {
      result = {
        ...(await this.whileLocked(collection, docs, () => this.documents.upsert(collection, docs))),
        unchanged: 0,
      };
    } else {
      const stored = new Map(
        (await this.documents.findByIds(collection, ids)).map((doc) => [String(doc.id), doc]),
      );
      const conflicts: FieldProblem[] = [];
      const fresh: MetadataDoc[] = [];
      docs.forEach((doc, i) => {
        const existing = stored.get(String(doc.id));
        if (!existing) {
          fresh.push(doc);
        } else if (canonicalJson(existing) !== canonicalJson(doc)) {
          conflicts.push({
            path: `/${i}/id`,
            message: `${String(doc.id)} is already stored with other content`,
          });
        }
      });
      if (conflicts.length > 0) {
        throw unprocessable(`Documents for ${collection} collide with stored ones`, conflicts);
      }
      const inserted = await this.documents.insert(collection, fresh);
      result = { inserted, replaced: 0, unchanged: docs.length - fresh.length };
    }
    await this.pids.markRegistered(ids);
    return result;
  }

  /**
   * Replaces stored documents by id without validating them: for callers that validated the new
   * content themselves, or restore content that was stored before. Answers how many were found.
   */
  replaceDocuments(collection: string, docs: readonly MetadataDoc[]): Promise<number> {
    return this.documents.replaceExisting(collection, docs);
  }

  /** Writes a checked batch collection by collection; see {@link putDocuments}. */
  async putBatch(batch: MetadataBatch, mode: 'insert' | 'upsert'): Promise<Record<string, PutResult>> {
    const results: Record<string, PutResult> = {};
    for (const [collection, docs] of batch) {
      results[collection] = await this.putDocuments(collection, docs, mode, `/${escapePointer(collection)}`);
    }
    return results;
  }

  /**
   * Every check a JSON submission gets before it is accepted: the schema, ids repeated in it or already
   * stored, and references found neither in it nor in the store. 422 listing the problems (with
   * `valid: false`) otherwise.
   */
  async validateSubmission(
    payload: unknown,
    options: { checkReferences: boolean } = { checkReferences: true },
  ): Promise<{ batch: MetadataBatch; counts: Record<string, number> }> {
    const report = await this.inspectSubmission(payload, options);
    if (report.problems.length > 0) {
      throw unprocessable('The metadata is not valid', report.problems, { extra: { valid: false } });
    }
    return { batch: report.batch, counts: report.counts };
  }

  /** The checks of {@link validateSubmission}, answered as a report rather than thrown. */
  async inspectSubmission(
    payload: unknown,
    options: { checkReferences: boolean },
  ): Promise<{ batch: MetadataBatch; counts: Record<string, number>; problems: FieldProblem[] }> {
    const check = this.checkBatch(payload);
    const problems =
      check.problems.length > 0
        ? check.problems
        : options.checkReferences
          ? await this.checkBatchAgainstStore(check.batch)
          : await this.existingIdProblems(check.batch);
    return { batch: check.batch, counts: countsOf(check.batch), problems };
  }

  /**
   * The checks a stored submission gets again when the metadata-in job runs: all of the above except
   * "already stored", because a retried job finds the documents it wrote before.
   */
  async recheckSubmission(
    payload: unknown,
  ): Promise<{ batch: MetadataBatch; counts: Record<string, number> }> {
    const check = this.checkBatch(payload);
    const problems = check.problems.length > 0 ? check.problems : await this.referenceProblems(check.batch);
    if (problems.length > 0) {
      throw unprocessable('The submission is not valid any more', problems);
    }
    return { batch: check.batch, counts: countsOf(check.batch) };
  }

  /** Rechecks and inserts a submission; documents stored identically before count as unchanged. */
  async applySubmission(payload: unknown): Promise<Record<string, PutResult>> {
    return this.putBatch((await this.recheckSubmission(payload)).batch, 'insert');
  }

  /** Schema problems of one document, with pointers under `at`. */
  validateDocument(collection: string, doc: unknown, at = ''): FieldProblem[] {
    return this.schema.validateDocument(collection, doc, at);
  }

  /**
   * Upserts documents the caller has already validated one by one (imports, which count invalid
   * documents instead of refusing the whole batch); ids are marked registered like any other write.
   */
  async upsertValidated(
    collection: string,
    docs: readonly MetadataDoc[],
  ): Promise<{ inserted: number; replaced: number }> {
    if (docs.length === 0) {
      return { inserted: 0, replaced: 0 };
    }
    const result = await this.whileLocked(collection, docs, () =>
      this.documents.insertOrReplace(collection, docs),
    );
    await this.pids.markRegistered(docs.map((doc) => String(doc.id)));
    return result;
  }

  /** Every document of a collection in id order, without `_id` (for exports). */
  stream(collection: string): AsyncGenerator<MetadataDoc> {
    return this.documents.stream(collection);
  }

  count(collection: string): Promise<number> {
    return this.documents.count(collection);
  }
  /**
   * Runs a write that replaces whole documents while holding their document locks, the ones changesheets
   * and queries:run take around their check-and-write: a replace landing inside such a window would be
   * overwritten by that writer. Waits (with a jittered back-off) while another writer holds any of them.
   */
  private async whileLocked<T>(
    collection: string,
    docs: readonly MetadataDoc[],
    write: () => Promise<T>,
  ): Promise<T> {
    const keys = [...new Set(docs.map((doc) => DocumentLocksRepository.key(collection, String(doc.id))))];
    const owner = `replace:${randomUUID()}`;
    const deadline = Date.now() + REPLACE_LOCK_WAIT_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.locks.whileHolding(
          keys,
          owner,
          REPLACE_LOCK_TTL_MS,
          (held) => new DocumentsHeld(held),
          write,
        );
      } catch (error) {
        if (!(error instanceof DocumentsHeld)) {
          throw error;
        }
        if (Date.now() >= deadline) {
          throw new ConflictError(
            `${error.held.length} document(s) of ${collection} stayed locked by another writer (a changesheet being applied?) for ${REPLACE_LOCK_WAIT_MS / 1000} s; nothing of this batch was written, retry later`,
            { extra: { held: error.held.length }, code: 'documents_locked' },
          );
        }
        await sleep(Math.min(1_000, 50 * attempt) * (0.5 + Math.random()));
      }
    }
  }
}
