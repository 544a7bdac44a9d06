import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import { AuthService } from '../auth/auth.service.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import {
  BadRequestError,
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  type FieldProblem,
} from '../common/errors/domain-errors.js';
import { mintId } from '../common/ids/ids.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ObjectReadsService } from '../drs/object-reads.service.js';
import { ObjectRegistrationService } from '../drs/object-registration.service.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { HubSiteService } from '../jobs/hub-site.service.js';
import type { OperationDto } from '../operations/operations.dto.js';
import { OperationsService } from '../operations/operations.service.js';
import { DocumentLocksRepository } from '../metadata/document-locks.repository.js';
import { canonicalJson } from '../metadata/json-document.js';
import type { MetadataDoc } from '../metadata/metadata.repository.js';
import { MAX_LISTED_PROBLEMS, unprocessable } from '../common/errors/problems.js';
import { MetadataStore } from '../metadata/metadata-store.service.js';
import { RunRepository } from '../orchestrator/storage/run.repository.js';
import {
  APPLY_CHANGESHEET_WORKFLOW,
  type ChangesheetApplied,
  type ChangesheetSummary,
} from '../site/changesheets.js';
import { parseChangesheet, type SheetProblem } from './changesheet-parser.js';
import { ChangesheetPlanner, type PlannedChange, type StoredDocument } from './changesheet-planner.js';
import {
  ChangesheetsRepository,
  type SubmissionRecord,
  type TxnLogEntry,
} from './changesheets.repository.js';
import type {
  ChangesheetPageDto,
  ChangesheetStatusDto,
  ChangesheetSubmittedDto,
  ChangesheetValidDto,
  ListChangesheetsQueryDto,
} from './changesheets.dto.js';
import { PageTokenCodec } from '../common/pagination/page-token.js';
import { SlotCatalog } from './slot-catalog.js';

/** The DRS object type a submitted sheet is stored as; its trigger starts apply-changesheet-1.0.0. */
export const CHANGESHEET_TYPE = 'metadata-changesheet';

/** A sheet as it arrived: its bytes, and the format its content type or file name announces. */
export interface SheetUpload {
  readonly bytes: Buffer;
  readonly format?: 'tsv' | 'csv';
  readonly filename?: string;
}

/** One document change to write: `before` is what the document must still be, `after` what it becomes. */
interface DocumentWrite {
  readonly id: string;
  readonly collection: string;
  readonly before: MetadataDoc;
  readonly after: MetadataDoc;
}

/** Locks outlive a dead writer by this long; the workflow's lease is as long. */
const LOCK_TTL_MS = 10 * 60 * 1000;
/** Changes are logged and written in slices of this many documents. */
const WRITE_SLICE = 500;

const MIME_TYPES = { tsv: 'text/tab-separated-values', csv: 'text/csv' } as const;

function sha256(doc: unknown): string {
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

function byRow(a: SheetProblem, b: SheetProblem): number {
  return (a.row ?? 0) - (b.row ?? 0);
}

function asProblems(problems: readonly SheetProblem[]): FieldProblem[] {
  return problems.map((p) => ({
    ...(p.row !== undefined ? { row: p.row } : {}),
    ...(p.id !== undefined ? { id: p.id } : {}),
    path: p.path,
    message: p.message,
  }));
}

/** The documents of a sheet changed since it was submitted, or are being changed by someone else. */
export class ChangesheetConflictError extends ConflictError {
  constructor(
    message: string,
    readonly ids: readonly string[],
  ) {
    super(message, { extra: { ids: [...ids] }, code: 'changesheet_conflict' });
  }
}

/**
 * Changesheets end to end: validation as a dry run on copies of the documents, submission as a DRS blob
 * (applied later by the orchestrator's apply_changesheet job, claimed as the hub's own site), the
 * transactional write with optimistic concurrency, its log, and revert.
 */
@Injectable()
export class ChangesheetsService {
  private readonly catalog: SlotCatalog;
  private readonly pageTokens: PageTokenCodec;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly store: MetadataStore,
    private readonly objects: ObjectReadsService,
    private readonly registration: ObjectRegistrationService,
    private readonly sheets: ChangesheetsRepository,
    private readonly locks: DocumentLocksRepository,
    private readonly hubSite: HubSiteService,
    private readonly operations: OperationsService,
    private readonly runs: RunRepository,
    private readonly auth: AuthService,
  ) {
    this.catalog = new SlotCatalog(store.schema.document);
    this.pageTokens = new PageTokenCodec(config.secrets.urlSigningKey);
  }

  /** The largest sheet accepted (CHANGESHEET_MAX_BYTES). */
  get maxBytes(): number {
    return this.config.metadata.changesheetMaxBytes;
  }

  // ---- HTTP ----------------------------------------------------------------------------------------

  async validate(upload: SheetUpload): Promise<ChangesheetValidDto> {
    const { changes } = await this.plan(this.decode(upload), upload.format ?? this.formatOf(upload.filename));
    return {
      valid: true,
      changes: changes.map((c) => ({
        id: c.id,
        collection: c.collection,
        before: c.before,
        after: c.after,
        patch: c.patch,
      })),
    };
  }

  async submit(upload: SheetUpload, principal: Principal): Promise<ChangesheetSubmittedDto> {
    const text = this.decode(upload);
    const { changes, format } = await this.plan(text, upload.format ?? this.formatOf(upload.filename));
    const rows = new Set(changes.flatMap((c) => c.rows)).size;
    const object = await this.registration.registerBlobFromStream(
      Readable.from([upload.bytes]),
      {
        name: `changesheet-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`,
        description: `Changesheet of ${rows} row(s) changing ${changes.length} document(s), submitted by ${describePrincipal(principal)}`,
        mime_type: MIME_TYPES[format],
        types: [CHANGESHEET_TYPE],
      },
      this.registration.registrantFor(principal),
      // The same bytes sent again lead back to the same object, so a retried submit is harmless.
      'reuse',
    );
    const record = this.submissionRecord(object.id, describePrincipal(principal), format, changes);
    const stored = await this.sheets.insertSubmission(record);
    if (!stored) {
      const existing = await this.sheets.getSubmission(object.id);
      if (existing?.status === 'failed') {
        await this.startOver(existing, record);
      } else if (existing && existing.status !== 'pending') {
        throw new ConflictError(
          `This sheet was submitted before as object ${object.id}, which is ${existing.status}; change the sheet to submit it again`,
          {
            extra: { object_id: object.id, status_url: this.statusUrl(object.id) },
            code: 'changesheet_already_submitted',
          },
        );
      }
    }
    return { object: this.objects.toRecord(object), status_url: this.statusUrl(object.id) };
  }

  /**
   * The same bytes as a sheet that failed (typically a conflict with a concurrent edit): the sheet was
   * just validated against the documents as they are now, so it starts over with their new hashes, and
   * its job is put back up for the hub's sensor to claim.
   */
  private async startOver(failed: SubmissionRecord, record: SubmissionRecord): Promise<void> {
    const job = await this.hubSite.jobForObject(APPLY_CHANGESHEET_WORKFLOW, failed._id);
    if (job?.status === 'claimed') {
      throw new ConflictError(
        `The failed attempt of ${failed._id} is still being reported; submit the sheet again in a few seconds`,
        {
          extra: { object_id: failed._id, status_url: this.statusUrl(failed._id) },
          code: 'changesheet_busy',
        },
      );
    }
    const restarted = await this.sheets.resubmitFailed(record, {
      submitted_by: failed.submitted_by,
      submitted_at: failed.submitted_at,
      ...(failed.failed_at ? { failed_at: failed.failed_at } : {}),
      ...(failed.error ? { error: failed.error } : {}),
      ...(failed.operation_id ? { operation_id: failed.operation_id } : {}),
    });
    if (restarted && job) {
      await this.hubSite.reopen(job.id);
    }
  }

  /** Submitted sheets, newest first, optionally in one status. */
  async list(query: ListChangesheetsQueryDto): Promise<ChangesheetPageDto> {
    const limit = query.max_page_size ?? 20;
    const fingerprint = PageTokenCodec.fingerprint([query.status ?? null]);
    let before: { at: Date; id: string } | undefined;
    if (query.page_token) {
      const position = this.pageTokens.decode(query.page_token, 'changesheets', fingerprint);
      const cut = position.indexOf(' ');
      before = { at: new Date(position.slice(0, cut)), id: position.slice(cut + 1) };
    }
    const records = await this.sheets.listSubmissions({
      ...(query.status ? { status: query.status } : {}),
      ...(before ? { before } : {}),
      limit: limit + 1,
    });
    const page = records.slice(0, limit);
    const last = page.at(-1);
    return {
      resources: page.map((r) => ({
        object_id: r._id,
        status: r.status,
        submitted_by: r.submitted_by,
        submitted_at: r.submitted_at.toISOString(),
        documents: r.changes.length,
        ...(r.applied_at ? { applied_at: r.applied_at.toISOString() } : {}),
        ...(r.failed_at ? { failed_at: r.failed_at.toISOString() } : {}),
        ...(r.reverted_at ? { reverted_at: r.reverted_at.toISOString() } : {}),
        ...(r.error ? { error: r.error } : {}),
      })),
      ...(records.length > limit && last
        ? {
            next_page_token: this.pageTokens.encode(
              'changesheets',
              `${last.submitted_at.toISOString()} ${last._id}`,
              fingerprint,
            ),
          }
        : {}),
    };
  }

  async status(objectId: string): Promise<ChangesheetStatusDto> {
    const record = await this.recordFor(objectId, false);
    const job = await this.hubSite.jobForObject(APPLY_CHANGESHEET_WORKFLOW, objectId);
    // Claims from before the latest resubmission belong to the attempts that failed.
    const since = record.attempts?.length ? record.submitted_at.toISOString() : '';
    const claim = job?.claims
      .filter((c) => c.site_id === this.hubSite.principal.siteId && c.claimed_at >= since)
      .at(-1);
    const operation = claim ? await this.operationOf(claim.op_id) : undefined;
    const run = claim
      ? (await this.runs.list({ tags: { operation_id: claim.op_id }, limit: 1 })).runs[0]
      : undefined;
    // The documents before and after the sheet, as its transaction logged them (first before, last after).
    const logged = new Map<string, { before: Record<string, unknown>; after: Record<string, unknown> }>();
    for (const entry of record.txn_id ? await this.sheets.txnLog(record.txn_id) : []) {
      const seen = logged.get(entry.id);
      logged.set(entry.id, { before: seen?.before ?? entry.before, after: entry.after });
    }
    return {
      object_id: objectId,
      status: record.status,
      submitted_by: record.submitted_by,
      submitted_at: record.submitted_at.toISOString(),
      job: job ? { id: job.id, status: job.status } : null,
      operation: operation
        ? {
            id: operation.id,
            done: operation.done,
            ...(operation.result !== undefined ? { result: operation.result } : {}),
            ...(operation.error !== undefined ? { error: operation.error } : {}),
          }
        : null,
      run: run ? { run_id: run.runId, status: run.status } : null,
      ...(record.txn_id ? { txn_id: record.txn_id } : {}),
      ...(record.changed_ids ? { changed_ids: [...record.changed_ids] } : {}),
      ...(record.error ? { error: record.error } : {}),
      ...(record.applied_at ? { applied_at: record.applied_at.toISOString() } : {}),
      ...(record.reverted_at ? { reverted_at: record.reverted_at.toISOString() } : {}),
      ...(record.revert_txn_id ? { revert_txn_id: record.revert_txn_id } : {}),
      ...(record.attempts?.length
        ? {
            attempts: record.attempts.map((a) => ({
              submitted_by: a.submitted_by,
              submitted_at: a.submitted_at.toISOString(),
              ...(a.failed_at ? { failed_at: a.failed_at.toISOString() } : {}),
              ...(a.error ? { error: a.error } : {}),
            })),
          }
        : {}),
      changes: record.changes.map((c) => ({
        id: c.id,
        collection: c.collection,
        patch: c.patch,
        rows: c.rows,
        ...(logged.get(c.id) ?? {}),
      })),
    };
  }

  /** A claim's operation; a claim being made has none yet. */
  private async operationOf(id: string): Promise<OperationDto | undefined> {
    try {
      return await this.operations.get(id);
    } catch (error) {
      if (error instanceof NotFoundError) {
        return undefined;
      }
      throw error;
    }
  }

  /** Undoes an applied sheet from its transaction log, newest change first, if nobody changed those documents since. */
  async revert(objectId: string, principal: Principal): Promise<ChangesheetStatusDto> {
    const record = await this.recordFor(objectId);
    if (record.status !== 'applied' || !record.txn_id) {
      throw new ConflictError(
        `Only an applied changesheet can be reverted; ${objectId} is ${record.status}`,
        { extra: { status: record.status }, code: 'changesheet_not_applied' },
      );
    }
    const log = await this.sheets.txnLog(record.txn_id);
    const writes = log
      .reverse()
      .map((e) => ({ id: e.id, collection: e.collection, before: e.after, after: e.before }));
    const { txn_id } = await this.writeChanges(objectId, 'revert', writes);
    await this.sheets.updateSubmission(objectId, {
      status: 'reverted',
      reverted_at: new Date(),
      reverted_by: describePrincipal(principal),
      revert_txn_id: txn_id,
    });
    return this.status(objectId);
  }

  // ---- the apply_changesheet job (see site/changesheets.ts) -----------------------------------------

  async load(objectId: string): Promise<ChangesheetSummary> {
    // A sheet registered through the DRS API is taken as submitted here, so its hashes are checked at apply.
    await this.recordFor(objectId);
    try {
      const { text, format } = await this.readStored(objectId);
      const { changes } = await this.plan(text, format);
      return { object_id: objectId, documents: changes.length };
    } catch (error) {
      await this.markFailed(objectId, error);
      throw error;
    }
  }

  async apply(objectId: string, operationId: string): Promise<ChangesheetApplied> {
    const record = await this.recordFor(objectId);
    if (record.status === 'applied' && record.txn_id && record.changed_ids) {
      // A run resumed after its worker died finds the work done.
      return { changed_ids: [...record.changed_ids], txn_id: record.txn_id };
    }
    try {
      if (record.status !== 'pending') {
        throw new ConflictError(`Changesheet ${objectId} is ${record.status}; it is applied only once`);
      }
      await this.recoverOpenTxns(objectId);
      const { text, format } = await this.readStored(objectId);
      const { changes } = await this.plan(text, format);
      this.assertUnchangedSinceSubmission(record, changes);
      const applied = await this.writeChanges(objectId, 'apply', changes);
      await this.sheets.updateSubmission(objectId, {
        status: 'applied',
        operation_id: operationId,
        txn_id: applied.txn_id,
        changed_ids: applied.changed_ids,
        applied_at: new Date(),
      });
      return applied;
    } catch (error) {
      await this.markFailed(objectId, error, operationId);
      throw error;
    }
  }

  // ---- planning ------------------------------------------------------------------------------------

  /**
   * Parses a sheet and plans it on copies of the current documents, checking each result against the
   * schema. 400 when the input is not a changesheet at all; 422 listing every problem with its row.
   */
  async plan(
    text: string,
    hint?: 'tsv' | 'csv',
  ): Promise<{ changes: PlannedChange[]; format: 'tsv' | 'csv' }> {
    const parsed = parseChangesheet(text, hint);
    if (!parsed.readable) {
      throw new BadRequestError(
        `This is not a readable changesheet: ${parsed.problems.map((p) => p.message).join('; ')}`,
        {
          errors: asProblems(parsed.problems).slice(0, MAX_LISTED_PROBLEMS),
          code: 'changesheet_unreadable',
          extra: { valid: false },
        },
      );
    }
    const documents = await this.currentDocuments([...new Set(parsed.commands.map((c) => c.id))]);
    const plan = new ChangesheetPlanner({
      catalog: this.catalog,
      documents,
      classOfCollection: (collection) => {
        const classes = this.store.collectionSpec(collection)?.classes ?? [];
        return classes.length === 1 ? classes[0] : undefined;
      },
      validate: (collection, doc) => this.store.schema.validateDocument(collection, doc, ''),
    }).plan(parsed.commands);
    const problems = [...parsed.problems, ...plan.problems].sort(byRow);
    if (problems.length === 0 && plan.changes.length === 0) {
      problems.push({
        path: 'sheet',
        message:
          parsed.commands.length === 0
            ? 'the sheet has no rows below its header'
            : 'the sheet changes nothing: every document already has these values',
      });
    }
    if (problems.length > 0) {
      throw unprocessable('The changesheet is not valid', asProblems(problems), {
        extra: { valid: false },
        code: 'changesheet_invalid',
      });
    }
    return { changes: plan.changes, format: parsed.format };
  }

  /** The stored documents with these ids, looked up only in the collections their typecodes allow. */
  private async currentDocuments(ids: readonly string[]): Promise<Map<string, StoredDocument>> {
    const byCollection = new Map<string, string[]>();
    for (const id of ids) {
      for (const collection of this.store.collectionsForId(id)) {
        const group = byCollection.get(collection);
        if (group) {
          group.push(id);
        } else {
          byCollection.set(collection, [id]);
        }
      }
    }
    const documents = new Map<string, StoredDocument>();
    for (const [collection, wanted] of byCollection) {
      for (const doc of await this.store.getDocuments(collection, wanted)) {
        documents.set(String(doc.id), { collection, doc });
      }
    }
    return documents;
  }

  /** A sheet applies only to the documents it was validated against at submission. */
  private assertUnchangedSinceSubmission(record: SubmissionRecord, changes: readonly PlannedChange[]): void {
    const expected = new Map(record.expected.map((e) => [e.id, e.sha256]));
    const planned = new Set(changes.map((c) => c.id));
    const changed = [
      ...changes.filter((c) => expected.get(c.id) !== sha256(c.before)).map((c) => c.id),
      ...record.expected.filter((e) => !planned.has(e.id)).map((e) => e.id),
    ];
    if (changed.length > 0) {
      throw new ChangesheetConflictError(
        `${changed.length} document(s) changed after the sheet was submitted, so nothing was written: ${changed.join(', ')}. Validate the sheet against the current documents and submit it again.`,
        changed,
      );
    }
  }

  // ---- writing -------------------------------------------------------------------------------------

  /**
   * Writes document changes as one transaction: locks every document, checks each still equals its
   * `before`, logs each change before writing it, and restores from the log what was written when a
   * write fails. Nothing is written when a check fails.
   */
  private async writeChanges(
    changesheet: string,
    kind: 'apply' | 'revert',
    writes: readonly DocumentWrite[],
  ): Promise<ChangesheetApplied> {
    const txnId = mintId('txn0', 10);
    const refuse = (held: readonly string[]) => {
      const ids = held.map((key) => key.slice(key.indexOf('/') + 1));
      return new ChangesheetConflictError(
        `${ids.length} document(s) are being changed by another writer, so nothing was written: ${ids.join(', ')}. Try again when it is done.`,
        ids,
      );
    };
    const keys = writes.map((w) => DocumentLocksRepository.key(w.collection, w.id));
    return this.locks.whileHolding(keys, txnId, LOCK_TTL_MS, refuse, async () => {
      const current = await this.currentDocuments(writes.map((w) => w.id));
      const stale = writes
        .filter((w) => {
          const stored = current.get(w.id);
          return !stored || stored.collection !== w.collection || sha256(stored.doc) !== sha256(w.before);
        })
        .map((w) => w.id);
      if (stale.length > 0) {
        throw new ChangesheetConflictError(
          `${stale.length} document(s) are not as this changesheet expects any more, so nothing was written: ${stale.join(', ')}`,
          stale,
        );
      }
      await this.sheets.openTxn({ _id: txnId, changesheet, kind, state: 'open', started_at: new Date() });
      const logged: TxnLogEntry[] = [];
      try {
        for (let start = 0; start < writes.length; start += WRITE_SLICE) {
          const slice = writes.slice(start, start + WRITE_SLICE).map((w, i) => ({
            txn_id: txnId,
            seq: start + i,
            changesheet,
            id: w.id,
            collection: w.collection,
            before: w.before,
            after: w.after,
            ts: new Date(),
          }));
          await this.sheets.appendLog(slice);
          logged.push(...slice);
          for (const [collection, entries] of groupBy(slice, (e) => e.collection)) {
            const matched = await this.store.replaceDocuments(
              collection,
              entries.map((e) => e.after),
            );
            if (matched !== entries.length) {
              throw new ChangesheetConflictError(
                `${entries.length - matched} document(s) of ${collection} were deleted while the changesheet was written; what was written has been restored`,
                entries.map((e) => e.id),
              );
            }
          }
        }
      } catch (error) {
        await this.restore(txnId, logged, error);
        throw error;
      }
      const changedIds = writes.map((w) => w.id);
      await this.sheets.finishTxn(txnId, 'committed', { changed_ids: changedIds });
      return { changed_ids: changedIds, txn_id: txnId };
    });
  }

  /** Puts back the `before` of every logged change, newest first, and closes the transaction as rolled back. */
  private async restore(txnId: string, logged: readonly TxnLogEntry[], cause: unknown): Promise<void> {
    const reversed = [...logged].reverse();
    for (const [collection, entries] of groupBy(reversed, (e) => e.collection)) {
      await this.store.replaceDocuments(
        collection,
        entries.map((e) => e.before),
      );
    }
    await this.sheets.finishTxn(txnId, 'rolled_back', {
      error: cause instanceof Error ? cause.message : String(cause),
    });
    this.log.warn(
      { txnId, restored: logged.length },
      'changesheet write failed midway; restored from the txn log',
    );
  }

  /**
   * A worker that died mid-write left its transaction open: documents it wrote are put back where they
   * still hold what it wrote, so the sheet can be applied again from the state it was submitted against.
   */
  private async recoverOpenTxns(changesheet: string): Promise<void> {
    for (const txn of await this.sheets.openTxns(changesheet)) {
      const log = await this.sheets.txnLog(txn._id);
      const current = await this.currentDocuments(log.map((e) => e.id));
      const written = log.filter((e) => {
        const stored = current.get(e.id);
        return stored !== undefined && sha256(stored.doc) === sha256(e.after);
      });
      await this.restore(txn._id, written, new Error('its writer stopped before finishing'));
    }
  }

  // ---- records -------------------------------------------------------------------------------------

  private submissionRecord(
    objectId: string,
    submittedBy: string,
    format: 'tsv' | 'csv',
    changes: readonly PlannedChange[],
  ): SubmissionRecord {
    return {
      _id: objectId,
      submitted_by: submittedBy,
      submitted_at: new Date(),
      format,
      expected: changes.map((c) => ({ id: c.id, collection: c.collection, sha256: sha256(c.before) })),
      changes: changes.map((c) => ({
        id: c.id,
        collection: c.collection,
        patch: c.patch,
        rows: [...c.rows],
      })),
      status: 'pending',
    };
  }

  /**
   * The submission record of a changesheet object. A sheet registered through the DRS API rather than
   * `changesheets:submit` has none; it is then taken as submitted now, by whoever registered it. Only
   * the writers (apply, revert) keep that record: a status read must not fix the documents' hashes.
   */
  private async recordFor(objectId: string, keep = true): Promise<SubmissionRecord> {
    const existing = await this.sheets.getSubmission(objectId);
    if (existing) {
      return existing;
    }
    const object = await this.objects.load(objectId);
    if (!object || !object.types.includes(CHANGESHEET_TYPE)) {
      throw new NotFoundError(
        object
          ? `Object ${objectId} is not a changesheet (its types are ${object.types.join(', ') || 'none'})`
          : `No changesheet has the object id ${objectId}`,
      );
    }
    let record: SubmissionRecord;
    try {
      // Registering an object is open to every site client; editing metadata is not.
      if (!(await this.auth.registrantHolds(object.created_by, 'changesheets:submit'))) {
        throw new ForbiddenError(
          `Changesheet ${objectId} was registered by ${object.created_by}, who does not hold the "changesheets:submit" allowance; it is not applied`,
        );
      }
      const { text, format } = await this.readStored(objectId);
      const { changes } = await this.plan(text, format);
      record = this.submissionRecord(objectId, object.created_by, format, changes);
    } catch (error) {
      if (!(error instanceof DomainError)) {
        throw error;
      }
      record = {
        ...this.submissionRecord(objectId, object.created_by, 'tsv', []),
        status: 'failed',
        error: this.hubSite.describeFailure(error),
        failed_at: new Date(),
      };
    }
    if (!keep) {
      return record;
    }
    await this.sheets.insertSubmission(record);
    return (await this.sheets.getSubmission(objectId)) ?? record;
  }

  private async markFailed(objectId: string, error: unknown, operationId?: string): Promise<void> {
    const record = await this.sheets.getSubmission(objectId);
    if (!record || record.status !== 'pending') {
      return;
    }
    await this.sheets.updateSubmission(objectId, {
      status: 'failed',
      error: this.hubSite.describeFailure(error),
      failed_at: new Date(),
      ...(operationId ? { operation_id: operationId } : {}),
    });
  }

  private async readStored(objectId: string): Promise<{ text: string; format: 'tsv' | 'csv' }> {
    const blob = await this.objects.describeBlob(objectId);
    const bytes = await buffer(this.objects.readBlob(blob));
    const format =
      blob.mimeType === MIME_TYPES.csv
        ? 'csv'
        : blob.mimeType === MIME_TYPES.tsv
          ? 'tsv'
          : this.formatOf(blob.name);
    return { text: this.decode({ bytes }), format: format ?? 'tsv' };
  }

  // ---- input ---------------------------------------------------------------------------------------

  /** The sheet's text: UTF-8 (a BOM is allowed), within the size limit, and not binary. */
  decode(upload: SheetUpload): string {
    const limit = this.config.metadata.changesheetMaxBytes;
    if (upload.bytes.length > limit) {
      throw new BadRequestError(
        `The sheet is ${upload.bytes.length} bytes; at most ${limit} are accepted (CHANGESHEET_MAX_BYTES)`,
        {
          errors: [{ path: 'sheet', message: 'too large' }],
          code: 'changesheet_too_large',
          extra: { valid: false },
        },
      );
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(upload.bytes);
    } catch {
      throw new BadRequestError(
        'The sheet is not UTF-8 text; save it from your spreadsheet as UTF-8 TSV or CSV',
        {
          errors: [{ path: 'sheet', message: 'not UTF-8' }],
          code: 'changesheet_unreadable',
          extra: { valid: false },
        },
      );
    }
    if (text.includes('\u0000')) {
      throw new BadRequestError(
        'The sheet contains NUL characters, so it is not a text file; send a TSV or CSV file',
        {
          errors: [{ path: 'sheet', message: 'binary content' }],
          code: 'changesheet_unreadable',
          extra: { valid: false },
        },
      );
    }
    return text;
  }

  private formatOf(filename: string | undefined): 'tsv' | 'csv' | undefined {
    const lower = filename?.toLowerCase() ?? '';
    return lower.endsWith('.csv')
      ? 'csv'
      : lower.endsWith('.tsv') || lower.endsWith('.tab')
        ? 'tsv'
        : undefined;
  }

  private statusUrl(objectId: string): string {
    return `${this.config.http.publicBaseUrl}/metadata/changesheets/${encodeURIComponent(objectId)}`;
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) {
      group.push(item);
    } else {
      groups.set(k, [item]);
    }
  }
  return groups;
}
