import { Injectable } from '@nestjs/common';
import type { Collection, Filter } from 'mongodb';
import type { Operation } from 'fast-json-patch';

import { retryTransient } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { RevisionLog } from '../infra/mongo/revision-log.js';

export type ChangesheetStatus = 'pending' | 'applied' | 'failed' | 'reverted';

/** What the hub remembers of a submitted sheet: who sent it and what the documents looked like then. */
export interface SubmissionRecord {
  /** The DRS object holding the sheet. */
  readonly _id: string;
  readonly submitted_by: string;
  readonly submitted_at: Date;
  readonly format: 'tsv' | 'csv';
  /** Each document the sheet changes, with the sha-256 of its canonical JSON when the sheet was submitted. */
  readonly expected: readonly { id: string; collection: string; sha256: string }[];
  /** The changes as planned at submission. */
  readonly changes: readonly { id: string; collection: string; patch: Operation[]; rows: number[] }[];
  readonly status: ChangesheetStatus;
  readonly error?: { code: string; message: string; details?: unknown };
  readonly operation_id?: string;
  readonly txn_id?: string;
  readonly changed_ids?: readonly string[];
  readonly applied_at?: Date;
  readonly failed_at?: Date;
  readonly reverted_at?: Date;
  readonly reverted_by?: string;
  readonly revert_txn_id?: string;
  /** Earlier attempts that failed before the sheet was submitted again, oldest first. */
  readonly attempts?: readonly FailedAttempt[];
}

/** A failed attempt of a sheet, kept when the same sheet is submitted again. */
export interface FailedAttempt {
  readonly submitted_by: string;
  readonly submitted_at: Date;
  readonly failed_at?: Date;
  readonly error?: { code: string; message: string; details?: unknown };
  readonly operation_id?: string;
}

export type TxnState = 'open' | 'committed' | 'rolled_back';

export interface TxnRecord {
  readonly _id: string;
  readonly changesheet: string;
  readonly kind: 'apply' | 'revert';
  readonly state: TxnState;
  readonly started_at: Date;
  readonly finished_at?: Date;
  readonly changed_ids?: readonly string[];
  readonly error?: string;
}

/** One document change, logged before it is written so that it can be undone. */
export interface TxnLogEntry {
  readonly txn_id: string;
  readonly seq: number;
  readonly changesheet: string;
  readonly id: string;
  readonly collection: string;
  readonly before: Record<string, unknown>;
  readonly after: Record<string, unknown>;
  readonly ts: Date;
}

const SUBMISSIONS = 'changesheet_submissions';
const TXNS = 'changesheet_txns';
const TXN_LOG = 'changesheet_txn_log';

/**
 * The changesheet bookkeeping collections: submissions, and transactions with their log of before/after
 * documents. None of them is a metadata collection, so no read path of
 * the API reaches them.
 */
@Injectable()
export class ChangesheetsRepository {
  private readonly submissionRevisions: RevisionLog<Omit<SubmissionRecord, '_id'>>;
  private readonly txnRevisions: RevisionLog<Omit<TxnRecord, '_id'>>;

  constructor(private readonly mongo: MongoService) {
    this.submissionRevisions = new RevisionLog(mongo, SUBMISSIONS);
    this.txnRevisions = new RevisionLog(mongo, TXNS);
    mongo.declareIndexes(TXNS, [{ key: { changesheet: 1, state: 1 }, name: 'changesheet_state' }]);
    mongo.declareIndexes(TXN_LOG, [{ key: { txn_id: 1, seq: 1 }, name: 'txn_seq_unique', unique: true }]);
  }

  /** Stores a submission unless one exists for the object; answers whether this call stored it. */
  insertSubmission(record: SubmissionRecord): Promise<boolean> {
    const { _id, ...fields } = record;
    return this.submissionRevisions.insert(_id, fields);
  }

  async getSubmission(objectId: string): Promise<SubmissionRecord | null> {
    const record = await this.submissionRevisions.read(objectId);
    return record ? { ...record, _id: objectId } : null;
  }

  /**
   * Submissions newest first (by submission time, then object id), after the keyset position `before`.
   * One batch for the whole page: FerretDB v1 can lose a cursor between batches.
   */
  listSubmissions(query: {
    status?: ChangesheetStatus;
    before?: { at: Date; id: string };
    limit: number;
  }): Promise<SubmissionRecord[]> {
    const filters: Filter<SubmissionRecord>[] = [];
    if (query.status) {
      filters.push({ status: query.status });
    }
    if (query.before) {
      filters.push({
        $or: [
          { submitted_at: { $lt: query.before.at } },
          { submitted_at: query.before.at, _id: { $lt: query.before.id } },
        ],
      });
    }
    return this.submissions
      .find(filters.length > 0 ? { $and: filters } : {}, {
        batchSize: query.limit,
        projection: { expected: 0, _rev: 0 },
      })
      .sort({ submitted_at: -1, _id: -1 })
      .limit(query.limit)
      .toArray();
  }

  async updateSubmission(objectId: string, set: Partial<Omit<SubmissionRecord, '_id'>>): Promise<void> {
    await this.submissionRevisions.update(objectId, (record) => ({ ...record, ...set }));
  }

  /**
   * Starts a failed sheet over as `record` (pending, with fresh hashes), keeping the failed attempt in
   * `attempts`. False when the sheet is no longer failed, because someone else submitted it again first.
   */
  async resubmitFailed(record: SubmissionRecord, failed: FailedAttempt): Promise<boolean> {
    // The failure of the attempt being replaced lives on in `attempts` only.
    const {
      _id,
      attempts: _attempts,
      error: _error,
      failed_at: _failedAt,
      operation_id: _op,
      ...fields
    } = record;
    const result = await this.submissionRevisions.update(_id, (current) =>
      current.status !== 'failed' ? null : { ...fields, attempts: [...(current.attempts ?? []), failed] },
    );
    return result?.changed === true;
  }

  async openTxn(txn: TxnRecord): Promise<void> {
    const { _id, ...fields } = txn;
    if (!(await this.txnRevisions.insert(_id, fields))) {
      throw new Error(`Changesheet transaction "${_id}" exists already`);
    }
  }

  /** Closes an open transaction; a second close (a recovery racing its writer) changes nothing. */
  async finishTxn(
    txnId: string,
    state: Exclude<TxnState, 'open'>,
    fields: { changed_ids?: readonly string[]; error?: string } = {},
  ): Promise<void> {
    await this.txnRevisions.update(txnId, (txn, now) =>
      txn.state !== 'open' ? null : { ...txn, state, finished_at: now, ...fields },
    );
  }

  /** Transactions of a sheet a dead writer left open. */
  openTxns(changesheet: string): Promise<TxnRecord[]> {
    return this.txns.find({ changesheet, state: 'open' }).toArray();
  }

  async appendLog(entries: readonly TxnLogEntry[]): Promise<void> {
    if (entries.length > 0) {
      await retryTransient(() =>
        this.log.insertMany(
          entries.map((entry) => ({ ...entry })),
          { ordered: true },
        ),
      );
    }
  }

  /** A transaction's log in the order it was written. */
  txnLog(txnId: string): Promise<TxnLogEntry[]> {
    return this.log
      .find({ txn_id: txnId }, { projection: { _id: 0 } })
      .sort({ seq: 1 })
      .toArray();
  }

  private get submissions(): Collection<SubmissionRecord> {
    return this.mongo.collection<SubmissionRecord>(SUBMISSIONS);
  }

  private get txns(): Collection<TxnRecord> {
    return this.mongo.collection<TxnRecord>(TXNS);
  }

  private get log(): Collection<TxnLogEntry> {
    return this.mongo.collection<TxnLogEntry>(TXN_LOG);
  }
}
