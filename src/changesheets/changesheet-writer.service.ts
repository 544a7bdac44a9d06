import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import { describePrincipal, type Principal } from '../auth/principal.js';
import { ConflictError } from '../common/errors/domain-errors.js';
import { mintId } from '../common/ids/ids.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { HubSiteService } from '../jobs/hub-site.service.js';
import { GuardedWriter } from '../metadata/guarded-writer.service.js';
import type { MetadataDoc } from '../metadata/metadata.repository.js';
import { MetadataStore } from '../metadata/metadata-store.service.js';
import type { ChangesheetApplied, ChangesheetSummary } from '../site/changesheets.js';
import { ChangesheetIntake, documentHash } from './changesheet-intake.service.js';
import type { PlannedChange } from './changesheet-planner.js';
import { ChangesheetStatusView } from './changesheet-status.service.js';
import type { ChangesheetStatusDto } from './changesheets.dto.js';
import {
  ChangesheetsRepository,
  type SubmissionRecord,
  type TxnLogEntry,
} from './changesheets.repository.js';

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
 * Applying and reverting sheets: the orchestrator's apply_changesheet job (see site/changesheets.ts)
 * loads and applies them, and a client reverts one. Each write is a transaction over the guarded
 * writer: every document must still be as the sheet expects, each change is logged before it is
 * written, and what was written is restored from the log when a write fails.
 */
@Injectable()
export class ChangesheetWriter {
  constructor(
    @Inject(LOGGER) private readonly log: Logger,
    private readonly intake: ChangesheetIntake,
    private readonly statusView: ChangesheetStatusView,
    private readonly store: MetadataStore,
    private readonly sheets: ChangesheetsRepository,
    private readonly writer: GuardedWriter,
    private readonly hubSite: HubSiteService,
  ) {}

  async load(objectId: string): Promise<ChangesheetSummary> {
    // A sheet registered through the DRS API is taken as submitted here, so its hashes are checked at apply.
    await this.intake.recordFor(objectId);
    try {
      const { text, format } = await this.intake.readStored(objectId);
      const { changes } = await this.intake.plan(text, format);
      return { object_id: objectId, documents: changes.length };
    } catch (error) {
      await this.markFailed(objectId, error);
      throw error;
    }
  }

  async apply(objectId: string, operationId: string): Promise<ChangesheetApplied> {
    const record = await this.intake.recordFor(objectId);
    if (record.status === 'applied' && record.txn_id && record.changed_ids) {
      // A run resumed after its worker died finds the work done.
      return { changed_ids: [...record.changed_ids], txn_id: record.txn_id };
    }
    try {
      if (record.status !== 'pending') {
        throw new ConflictError(`Changesheet ${objectId} is ${record.status}; it is applied only once`);
      }
      await this.recoverOpenTxns(objectId);
      const { text, format } = await this.intake.readStored(objectId);
      const { changes } = await this.intake.plan(text, format);
      assertUnchangedSinceSubmission(record, changes);
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

  /** Undoes an applied sheet from its transaction log, newest change first, if nobody changed those documents since. */
  async revert(objectId: string, principal: Principal): Promise<ChangesheetStatusDto> {
    const record = await this.intake.recordFor(objectId);
    if (record.status !== 'applied' || !record.txn_id) {
      throw new ConflictError(
        `Only an applied changesheet can be reverted; ${objectId} is ${record.status}`,
        {
          extra: { status: record.status },
          code: 'changesheet_not_applied',
        },
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
    return this.statusView.status(objectId);
  }

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
    return this.writer.writeIfUnchanged(
      writes.map((w) => ({ collection: w.collection, storedId: w.id, doc: w.before })),
      {
        owner: txnId,
        lockTtlMs: LOCK_TTL_MS,
        busy: (held) => {
          const ids = held.map((key) => key.slice(key.indexOf('/') + 1));
          return new ChangesheetConflictError(
            `${ids.length} document(s) are being changed by another writer, so nothing was written: ${ids.join(', ')}. Try again when it is done.`,
            ids,
          );
        },
        changed: (moved) => {
          const stale = moved.map((r) => String(r.storedId));
          return new ChangesheetConflictError(
            `${stale.length} document(s) are not as this changesheet expects any more, so nothing was written: ${stale.join(', ')}`,
            stale,
          );
        },
      },
      () => this.logAndWrite(txnId, changesheet, kind, writes),
    );
  }

  private async logAndWrite(
    txnId: string,
    changesheet: string,
    kind: 'apply' | 'revert',
    writes: readonly DocumentWrite[],
  ): Promise<ChangesheetApplied> {
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
      const current = await this.intake.currentDocuments(log.map((e) => e.id));
      const written = log.filter((e) => {
        const stored = current.get(e.id);
        return stored !== undefined && documentHash(stored.doc) === documentHash(e.after);
      });
      await this.restore(txn._id, written, new Error('its writer stopped before finishing'));
    }
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
}

/** A sheet applies only to the documents it was validated against at submission. */
function assertUnchangedSinceSubmission(record: SubmissionRecord, changes: readonly PlannedChange[]): void {
  const expected = new Map(record.expected.map((e) => [e.id, e.sha256]));
  const planned = new Set(changes.map((c) => c.id));
  const changed = [
    ...changes.filter((c) => expected.get(c.id) !== documentHash(c.before)).map((c) => c.id),
    ...record.expected.filter((e) => !planned.has(e.id)).map((e) => e.id),
  ];
  if (changed.length > 0) {
    throw new ChangesheetConflictError(
      `${changed.length} document(s) changed after the sheet was submitted, so nothing was written: ${changed.join(', ')}. Validate the sheet against the current documents and submit it again.`,
      changed,
    );
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
