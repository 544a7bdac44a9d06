import { randomBytes } from 'node:crypto';

import type { Collection, Document, Filter } from 'mongodb';

import { ServiceUnavailableError } from '../../common/errors/domain-errors.js';
import { isDuplicateKeyError, retryTransient } from './mongo-errors.js';
import type { MongoService } from './mongo.service.js';

/**
 * Where a document stands in its chain of revisions: `n` counts committed changes, `e` names the
 * incarnation (a document deleted and created again under the same id starts a new chain).
 */
export interface Revision {
  readonly n: number;
  readonly e: string;
}

/** The field each managed document carries its revision in; repositories leave it out of what they return. */
export const REVISION_FIELD = '_rev';

/** A projection that hides what the store adds to a managed document. */
export const STORE_FIELDS_HIDDEN = { _id: 0, [REVISION_FIELD]: 0 } as const;

type Stored = Document & { _rev?: Revision };

interface RevisionRecord {
  /** `<collection>/<document id>/<incarnation>/<n>`: unique, so one writer alone can commit revision n. */
  _id: string;
  collection: string;
  doc_id: string;
  /** The field holding `doc_id` in the document. */
  key_field: string;
  n: number;
  e: string;
  /** The whole document as of this revision; null when the revision deleted it. */
  state: Stored | null;
  at: Date;
}

/** Returned by a change function to delete the document. */
export const DELETE_DOCUMENT = Symbol('delete document');

/**
 * What a change function answers for the document as it stands: the next document, null for "nothing
 * to change", or {@link DELETE_DOCUMENT}. It may throw to refuse; it may be called several times (once
 * per revision another writer commits first), so it must not have side effects.
 */
export type Change<T> = (current: T, now: Date) => T | null | typeof DELETE_DOCUMENT;

export interface Committed<T> {
  /** The document after the change (or as it stands when nothing changed); null once deleted. */
  readonly doc: T | null;
  readonly changed: boolean;
}

export interface RevisionLogOptions {
  /**
   * The uniquely indexed field that names a document; `_id` (the default) is the fast one on FerretDB,
   * which scans for any other field.
   */
  readonly keyField?: string;
  /** How old a committed revision must be before a reader copies it onto its document itself. */
  readonly abandonedAfterMs?: number;
  /** Runs before each copy onto the document; lets tests hold a writer between its two steps. */
  readonly beforeCopy?: (id: string, revision: Revision) => Promise<void>;
}

const RECORDS = 'revisions';
const MAX_ATTEMPTS = 500;
/** A revision committed this long ago whose document still shows an older one was left by a dead writer. */
const ABANDONED_AFTER_MS = 5_000;

/** Jittered, growing pause after a writer lost `losses` revisions in a row (at most ~50 ms). */
function backOff(losses: number): Promise<void> {
  const ceiling = Math.min(8, losses);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

function revisionOf(doc: Stored): Revision {
  return doc._rev ?? { n: 0, e: '' };
}

function recordId(collection: string, id: string, rev: Revision): string {
  return `${collection}/${id}/${rev.e}/${rev.n}`;
}

function withoutStoreFields<T>(doc: Stored): T {
  const { _id, _rev, ...rest } = doc;
  void _id;
  void _rev;
  return rest as T;
}

/**
 * The one read-modify-write of a MongoDB document, correct where only unique-index inserts are atomic.
 *
 * FerretDB v1 runs every update as read → apply → rewrite by `_id`, with no condition and no lock, so a
 * conditional update, `$inc` or two `$set`s can all lose changes. Here a writer reads the document at
 * revision n, computes the next document and commits it by inserting the revision record n+1, whose
 * unique `_id` lets exactly one writer commit each revision; only then does it copy the new state onto the
 * document. The records are the truth and the document is a copy of the latest one:
 *
 * - a writer that loses revision n+1 takes the winner's record as the current state and tries n+2, so it
 *   never decides on a state older than the one it commits over;
 * - a writer that dies after committing leaves its record behind: every later writer builds on it at
 *   once, {@link read} returns it, and it is copied onto the document by the next writer, by a reader once
 *   it is {@link ABANDONED_AFTER_MS} old, or by {@link sweep};
 * - a copy is an unconditional replace by `_id`, so a slow writer can overwrite a newer copy with its
 *   older one; each writer therefore looks for a newer record after its copy and copies the latest when
 *   there is one, so the last copy written is always the latest revision (and if the slow writer dies
 *   in between, the document lags, which readers detect the same way as a dead writer's).
 *
 * On MongoDB the same unique-insert path is used: it is atomic there too, and one code path means the
 * engine the tests run on exercises exactly what production runs.
 */
export class RevisionLog<T extends object> {
  private readonly docs: Collection<Stored>;
  private readonly records: Collection<RevisionRecord>;

  constructor(
    private readonly mongo: MongoService,
    private readonly collection: string,
    private readonly options: RevisionLogOptions = {},
  ) {
    this.docs = mongo.collection<Stored>(collection);
    // No index besides `_id`: each would slow every commit, and only the hourly sweep queries anything else.
    this.records = mongo.collection<RevisionRecord>(RECORDS);
  }

  /** Inserts a new document under `id`; false when the id is taken. */
  async insert(id: string, doc: T): Promise<boolean> {
    try {
      await retryTransient(() => this.docs.insertOne(this.fresh(id, doc)));
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) {
        return false;
      }
      throw error;
    }
  }

  /** The stored form of a new document, for repositories that insert in bulk. */
  fresh(id: string, doc: T): Stored {
    const rev = { n: 0, e: randomBytes(6).toString('base64url') };
    return this.keyField === '_id'
      ? { ...doc, _id: id, _rev: rev }
      : { ...doc, [this.keyField]: id, _rev: rev };
  }

  /** The latest committed state of the document, or null; repairs a copy a dead writer left behind. */
  async read(id: string): Promise<T | null> {
    const doc = await this.findDoc(id);
    if (!doc) {
      return null;
    }
    const head = await this.latest(id, doc);
    return head ? withoutStoreFields<T>(head) : null;
  }

  /**
   * Applies `change` to the latest state of the document until this writer commits a revision (or the
   * change finds nothing to do). Null when the document does not exist.
   */
  async update(id: string, change: Change<T>): Promise<Committed<T> | null> {
    let current = await this.findDoc(id);
    if (!current) {
      return null;
    }
    // Whether `current` is known to be the latest revision (a copy may lag behind its records).
    let verified = false;
    let losses = 0;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const rev = revisionOf(current);
      const now = new Date();
      let next: T | null | typeof DELETE_DOCUMENT;
      try {
        next = change(withoutStoreFields<T>(current), now);
      } catch (error) {
        // Refuse only on the latest state, never on a copy that lags behind.
        if (verified) {
          throw error;
        }
        verified = true;
        const latest = await this.latest(id, current);
        if (latest === null) {
          return null;
        }
        if (revisionOf(latest).n === rev.n) {
          throw error;
        }
        current = latest;
        continue;
      }
      if (next === null) {
        if (!verified) {
          verified = true;
          const latest = await this.latest(id, current);
          if (latest === null) {
            return null;
          }
          if (revisionOf(latest).n !== rev.n) {
            current = latest;
            continue;
          }
        }
        return { doc: withoutStoreFields<T>(current), changed: false };
      }
      const nextRev: Revision = { n: rev.n + 1, e: rev.e };
      const state: Stored | null =
        next === DELETE_DOCUMENT ? null : { ...(next as Document), _id: current._id, _rev: nextRev };
      if (await this.commit(id, nextRev, state, now)) {
        await this.copy(id, nextRev, state);
        return { doc: state ? withoutStoreFields<T>(state) : null, changed: true };
      }
      // Another writer committed this revision first. Build on the document's copy when it has moved past
      // that revision (as it usually has under contention), else on the winner's record. Either may be
      // behind the latest revision by now; then the next commit loses too, and this repeats.
      losses++;
      await backOff(losses);
      verified = false;
      const copy = await this.findDoc(id);
      if (!copy) {
        return null;
      }
      const copied = revisionOf(copy);
      if (copied.e !== rev.e) {
        // Deleted and created again since this writer read it.
        return null;
      }
      if (copied.n > rev.n) {
        current = copy;
        continue;
      }
      const winner = await this.record(id, nextRev);
      if (winner?.state === null) {
        return null;
      }
      // Without a record, it was swept: the copy shows it by now.
      current = winner?.state ?? copy;
    }
    throw new ServiceUnavailableError(
      `"${id}" in ${this.collection} is changing too fast to update; retry shortly`,
    );
  }

  /** Deletes the document through its revisions, so a concurrent change cannot bring it back. */
  async delete(id: string, keep?: (current: T) => boolean): Promise<boolean> {
    const result = await this.update(id, (current) => (keep && keep(current) ? null : DELETE_DOCUMENT));
    return result !== null && result.changed;
  }

  /**
   * Housekeeping: drops revision records older than `cutoff` once their document shows them, copying the
   * latest revision first where a dead writer left the document behind. Covers every collection. A record
   * must outlive any writer that read the revision before it (else that writer could commit over it), which
   * a cutoff of minutes guarantees: a writer's read is milliseconds old when it commits.
   */
  async sweep(cutoff: Date, limit = 5_000): Promise<number> {
    const old = await this.records
      .find({ at: { $lt: cutoff } }, { projection: { state: 0 } })
      .limit(limit)
      .toArray();
    const byDoc = new Map<string, RevisionRecord[]>();
    for (const record of old) {
      const key = JSON.stringify([record.collection, record.doc_id]);
      byDoc.set(key, [...(byDoc.get(key) ?? []), record]);
    }
    let dropped = 0;
    for (const records of byDoc.values()) {
      const { collection, doc_id: docId } = records[0]!;
      const log =
        collection === this.collection
          ? this
          : new RevisionLog<Document>(this.mongo, collection, { keyField: records[0]!.key_field });
      const doc = await log.findDoc(docId);
      if (doc) {
        await log.latest(docId, doc, 0);
      }
      const shown = doc ? await log.findDoc(docId) : null;
      const rev = shown ? revisionOf(shown) : undefined;
      const done = records.filter((record) => !rev || record.e !== rev.e || record.n <= rev.n);
      if (done.length > 0) {
        const ids = done.map((record) => record._id);
        dropped += (await retryTransient(() => this.records.deleteMany({ _id: { $in: ids } }))).deletedCount;
      }
    }
    return dropped;
  }

  private findDoc(id: string): Promise<Stored | null> {
    return this.docs.findOne(this.filter(id));
  }

  private get keyField(): string {
    return this.options.keyField ?? '_id';
  }

  private filter(id: string): Filter<Stored> {
    return { [this.keyField]: id };
  }

  private record(id: string, rev: Revision): Promise<RevisionRecord | null> {
    return this.records.findOne({ _id: recordId(this.collection, id, rev) });
  }

  private async commit(id: string, rev: Revision, state: Stored | null, at: Date): Promise<boolean> {
    try {
      await retryTransient(() =>
        this.records.insertOne({
          _id: recordId(this.collection, id, rev),
          collection: this.collection,
          doc_id: id,
          key_field: this.keyField,
          n: rev.n,
          e: rev.e,
          state,
          at,
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
   * The latest revision, following records past the document's copy; null when that revision deleted
   * the document. Copies it onto the document when the writer that committed it is gone.
   */
  private async latest(
    id: string,
    doc: Stored,
    abandonedAfterMs = this.options.abandonedAfterMs ?? ABANDONED_AFTER_MS,
  ): Promise<Stored | null> {
    let head: Stored | null = doc;
    let rev = revisionOf(doc);
    let headRecord: RevisionRecord | null = null;
    for (;;) {
      const next = await this.record(id, { n: rev.n + 1, e: rev.e });
      if (!next) {
        break;
      }
      headRecord = next;
      head = next.state;
      rev = { n: next.n, e: rev.e };
    }
    if (headRecord && Date.now() - headRecord.at.getTime() >= abandonedAfterMs) {
      await this.copy(id, rev, head);
    }
    return head;
  }

  /**
   * Writes revision `rev` onto the document. A copy is an unconditional replace, so it may land after a
   * newer writer's: when a newer revision exists and the document shows nothing newer than this copy, the
   * latest revision is copied too. So the last copy to land is always of the latest revision (each copier
   * checks after its own copy lands), and a writer whose copy another overtook stops at once.
   */
  private async copy(id: string, rev: Revision, state: Stored | null): Promise<void> {
    let current = rev;
    let currentState = state;
    for (;;) {
      await this.options.beforeCopy?.(id, current);
      if (currentState === null) {
        await retryTransient(() => this.docs.deleteOne(this.filter(id)));
        return;
      }
      const written = currentState;
      await retryTransient(() => this.docs.replaceOne(this.filter(id), written));
      if (!(await this.record(id, { n: current.n + 1, e: current.e }))) {
        return;
      }
      const shown = await this.findDoc(id);
      if (!shown || revisionOf(shown).e !== current.e || revisionOf(shown).n > current.n) {
        return;
      }
      const head = await this.headRecord(id, current);
      if (!head) {
        return;
      }
      current = { n: head.n, e: current.e };
      currentState = head.state;
    }
  }

  /** The newest record after `rev`, or null when there is none. */
  private async headRecord(id: string, rev: Revision): Promise<RevisionRecord | null> {
    let head: RevisionRecord | null = null;
    for (let n = rev.n + 1; ; n++) {
      const next = await this.record(id, { n, e: rev.e });
      if (!next) {
        return head;
      }
      head = next;
    }
  }
}
