import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { BSON, type Document } from 'mongodb';

import { describePrincipal, type Principal } from '../auth/principal.js';
import { ConflictError, UnprocessableError } from '../common/errors/domain-errors.js';
import { unprocessable } from '../common/errors/problems.js';
import { checkFilter } from '../common/pagination/filter-policy.js';
import { withoutMongoId } from '../infra/mongo/mongo-errors.js';
import { GuardedWriter } from './guarded-writer.service.js';
import { canonicalJson } from './json-document.js';
import { MetadataRepository } from './metadata.repository.js';
import { MetadataStore } from './metadata-store.service.js';
import type { DeleteStatementDto, UpdateStatementDto, WriteResponseDto } from './queries.dto.js';
import { QueriesRepository, type Backup } from './queries.repository.js';
import { checkUpdate, filterPolicyOf, invalidQuery } from './query-policy.js';
import { MetadataSchema, type CollectionSpec } from './schema/metadata-schema.js';

/** A query's write locks outlive a process that died mid-write by this long. */
const WRITE_LOCK_TTL_MS = 60_000;

function keyOf(id: unknown): string {
  return BSON.EJSON.stringify({ id });
}

/**
 * `queries:run` update and delete: every affected document is validated (and, for deletes, checked for
 * referrers) before anything is written, the originals are backed up, and the write goes through the
 * guarded writer so that a document changed meanwhile is not overwritten.
 */
@Injectable()
export class QueryWritesService {
  constructor(
    private readonly schema: MetadataSchema,
    private readonly queries: QueriesRepository,
    private readonly documents: MetadataRepository,
    private readonly store: MetadataStore,
    private readonly writer: GuardedWriter,
  ) {}

  /**
   * Tries the statements in a scratch copy of the matched documents, validates every changed document,
   * backs up the originals and only then writes the results, unless a document changed meanwhile.
   */
  async update(
    spec: CollectionSpec,
    statements: readonly UpdateStatementDto[],
    principal: Principal,
  ): Promise<WriteResponseDto> {
    const problems = statements.flatMap((statement, i) => [
      ...checkFilter(statement.q, filterPolicyOf(spec)).map((p) => ({
        ...p,
        path: `/updates/${i}/q${p.path}`,
      })),
      ...checkUpdate(statement.u, `/updates/${i}/u`),
      ...(statement.upsert
        ? [
            {
              path: `/updates/${i}/upsert`,
              message: 'upserts are not supported; add documents with json:submit',
            },
          ]
        : []),
    ]);
    if (problems.length > 0) {
      throw invalidQuery(problems);
    }

    const originals = new Map<string, Document>();
    const matched = new Set<string>();
    const scratch = this.queries.createScratchName();
    try {
      for (const statement of statements) {
        const multi = statement.multi ?? false;
        const notYetCopied = { _id: { $nin: [...originals.values()].map((doc) => doc._id as unknown) } };
        const fresh = await this.queries.matchingIds(
          spec.name,
          { $and: [statement.q, notYetCopied] },
          !multi,
        );
        const docs = await this.documents.findByStoredIds(spec.name, fresh);
        docs.forEach((doc) => originals.set(keyOf(doc._id), doc));
        await this.queries.copyToScratch(scratch, docs);
        const targets = await this.queries.matchingIds(scratch, statement.q, !multi);
        targets.forEach((id) => matched.add(keyOf(id)));
        if (targets.length > 0) {
          await this.queries.updateInScratch(
            scratch,
            multi ? statement.q : { _id: targets[0] },
            statement.u,
            multi,
          );
        }
      }
      const changed = (await this.queries.readScratch(scratch)).filter(
        (doc) => canonicalJson(doc) !== canonicalJson(originals.get(keyOf(doc._id))),
      );
      const invalidDocs = changed.flatMap((doc) =>
        this.schema.validateDocument(spec.name, withoutMongoId(doc)).map((p) => ({
          ...p,
          id: typeof doc.id === 'string' ? doc.id : keyOf(doc._id),
        })),
      );
      if (invalidDocs.length > 0) {
        throw unprocessable(
          `The update would leave ${new Set(invalidDocs.map((p) => p.id)).size} document(s) invalid; nothing was written`,
          invalidDocs,
        );
      }
      const at = new Date();
      const by = describePrincipal(principal);
      await this.writeIfUnchanged(
        spec.name,
        changed.map((doc) => originals.get(keyOf(doc._id)) ?? doc),
        async () => {
          await this.queries.backUp(
            changed.map((doc): Backup => ({
              collection: spec.name,
              op: 'update',
              doc: originals.get(keyOf(doc._id)) ?? {},
              by,
              at,
            })),
          );
          await this.queries.replaceAll(spec.name, changed);
        },
      );
      return { ok: 1, n: matched.size, nModified: changed.length, backedUp: changed.length };
    } finally {
      await this.queries.dropScratch(scratch);
    }
  }

  async delete(
    spec: CollectionSpec,
    statements: readonly DeleteStatementDto[],
    principal: Principal,
    options: { allowBrokenRefs: boolean },
  ): Promise<WriteResponseDto> {
    const problems = statements.flatMap((statement, i) =>
      checkFilter(statement.q, filterPolicyOf(spec)).map((p) => ({ ...p, path: `/deletes/${i}/q${p.path}` })),
    );
    if (problems.length > 0) {
      throw invalidQuery(problems);
    }
    const ids: unknown[] = [];
    for (const statement of statements) {
      const notYetChosen = { _id: { $nin: [...ids] } };
      ids.push(
        ...(await this.queries.matchingIds(
          spec.name,
          { $and: [statement.q, notYetChosen] },
          statement.limit === 1,
        )),
      );
    }
    const docs = await this.documents.findByStoredIds(spec.name, ids);
    if (!options.allowBrokenRefs) {
      const deleted = docs.map((doc): unknown => doc.id).filter((id): id is string => typeof id === 'string');
      const referrers = await this.store.referrersOf(deleted, new Set(deleted));
      if (referrers.length > 0) {
        throw new UnprocessableError(
          `Deleting would leave ${referrers.length === 20 ? 'at least 20' : referrers.length} document(s) referring to deleted ones; delete or change them first, or pass allow_broken_refs=true`,
          {
            errors: referrers.map((r) => ({
              path: `${r.collection}/${r.id}`,
              message: `refers to ${r.refersTo}`,
            })),
            code: 'broken_references',
          },
        );
      }
    }
    const at = new Date();
    const by = describePrincipal(principal);
    const n = await this.writeIfUnchanged(spec.name, docs, async () => {
      await this.queries.backUp(
        docs.map((doc): Backup => ({ collection: spec.name, op: 'delete', doc, by, at })),
      );
      return this.queries.deleteByMongoIds(spec.name, ids);
    });
    return { ok: 1, n, backedUp: docs.length };
  }

  /**
   * Runs a write of documents read earlier, if they are still as read: a changesheet or another query
   * writing them meanwhile gets a 409 instead of a lost update.
   */
  private writeIfUnchanged<T>(
    collection: string,
    read: readonly Document[],
    write: () => Promise<T>,
  ): Promise<T> {
    return this.writer.writeIfUnchanged(
      read.map((doc) => ({ collection, storedId: doc._id as unknown, doc })),
      {
        owner: `query:${randomUUID()}`,
        lockTtlMs: WRITE_LOCK_TTL_MS,
        busy: (held) =>
          new ConflictError(
            `${held.length} of the documents are being changed by another writer (a changesheet being applied?); nothing was written, retry shortly`,
            { extra: { held: held.length }, code: 'documents_locked' },
          ),
        changed: (moved) =>
          new ConflictError(
            `${moved.length} of the documents changed while this command ran; nothing was written, run it again`,
            { extra: { changed: moved.length }, code: 'documents_changed' },
          ),
      },
      write,
    );
  }
}
