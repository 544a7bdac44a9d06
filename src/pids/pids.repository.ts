import { Injectable } from '@nestjs/common';
import { MongoBulkWriteError, type Collection, type WriteError } from 'mongodb';

import { MongoService } from '../infra/mongo/mongo.service.js';
import { RevisionLog } from '../infra/mongo/revision-log.js';

export const PID_STATUSES = ['draft', 'registered', 'indexed'] as const;
export type PidStatus = (typeof PID_STATUSES)[number];

export interface PidDoc {
  id: string;
  typecode: string;
  schema_class: string;
  shoulder: string;
  status: PidStatus;
  /** The site whose client minted the id; only it may bind or delete it. */
  minted_by: string;
  minted_at: Date;
  bindings?: Record<string, unknown>;
  updated_at?: Date;
}

/** `_id` is the id itself: lookups are primary-key lookups and uniqueness needs no second index. */
type StoredPid = PidDoc & { _id: string };

const COLLECTION = 'pid_records';

@Injectable()
export class PidsRepository {
  private readonly pids: Collection<StoredPid>;
  private readonly revisions: RevisionLog<PidDoc>;

  constructor(mongo: MongoService) {
    this.pids = mongo.collection<StoredPid>(COLLECTION);
    this.revisions = new RevisionLog<PidDoc>(mongo, COLLECTION);
    mongo.declareIndexes(COLLECTION, [{ key: { minted_by: 1 }, name: 'minted_by' }]);
  }

  /** Inserts what it can; returns the ids that were already taken, for the caller to mint again. */
  async insertMany(docs: readonly PidDoc[]): Promise<Set<string>> {
    if (docs.length === 0) {
      return new Set();
    }
    try {
      await this.pids.insertMany(
        docs.map((doc) => ({ _id: doc.id, ...doc })),
        { ordered: false },
      );
      return new Set();
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) {
        throw error;
      }
      const writeErrors = ([] as WriteError[]).concat(error.writeErrors);
      if (writeErrors.length === 0 || writeErrors.some((e) => e.code !== 11000)) {
        throw error;
      }
      return new Set(
        writeErrors.map((e) => docs[e.index]?.id).filter((id): id is string => id !== undefined),
      );
    }
  }

  findById(id: string): Promise<PidDoc | null> {
    return this.revisions.read(id);
  }

  /** Sets the bindings of a draft id; null when the id is not (or no longer) a draft. */
  async bindDraft(id: string, bindings: Record<string, unknown>): Promise<PidDoc | null> {
    const result = await this.revisions.update(id, (pid, now) =>
      pid.status === 'draft' ? { ...pid, bindings, updated_at: now } : null,
    );
    return result?.changed ? result.doc : null;
  }

  deleteDraft(id: string): Promise<boolean> {
    return this.revisions.delete(id, (pid) => pid.status !== 'draft');
  }

  /** Draft ids that now name a stored document become registered. */
  async markRegistered(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) {
      return;
    }
    // Most ids written are no drafts: find the few that are in one query, then change each alone.
    const drafts = await this.pids
      .find({ _id: { $in: [...ids] }, status: 'draft' }, { projection: { _id: 1 } })
      .toArray();
    for (const { _id: id } of drafts) {
      await this.revisions.update(id, (pid, now) =>
        pid.status === 'draft' ? { ...pid, status: 'registered', updated_at: now } : null,
      );
    }
  }
}
