import { Injectable } from '@nestjs/common';

import { withoutMongoId } from '../infra/mongo/mongo-errors.js';
import { DocumentLocksRepository } from './document-locks.repository.js';
import { canonicalJson } from './json-document.js';
import { MetadataRepository, type MetadataDoc } from './metadata.repository.js';

/** A metadata document as a writer read it: its change may land only if it is still stored so. */
export interface ReadDocument {
  readonly collection: string;
  /** Its `_id`, which is its id for documents that have one. */
  readonly storedId: unknown;
  /** As read, with or without `_id`. */
  readonly doc: MetadataDoc;
}

export interface WriteGuard {
  /** Whose locks these are; unique to one write. */
  readonly owner: string;
  /** How long the locks outlive a writer that died holding them. */
  readonly lockTtlMs: number;
  /** The error when other writers hold some of the documents (their lock keys). */
  readonly busy: (held: readonly string[]) => Error;
  /** The error when some of the documents changed since they were read. */
  readonly changed: (moved: readonly ReadDocument[]) => Error;
}

/**
 * The one way to replace metadata documents a writer read before (changesheets, queries:run update and
 * delete): it locks them, checks each is still stored as read, and only then writes, so a write landing
 * between another's read and write is refused instead of lost.
 */
@Injectable()
export class GuardedWriter {
  constructor(
    private readonly locks: DocumentLocksRepository,
    private readonly documents: MetadataRepository,
  ) {}

  /** Runs `write` holding the documents' locks, if every one of them is still as read; nothing runs otherwise. */
  writeIfUnchanged<T>(read: readonly ReadDocument[], guard: WriteGuard, write: () => Promise<T>): Promise<T> {
    const keys = read.map((r) => DocumentLocksRepository.keyOfStored(r.collection, r.storedId));
    return this.locks.whileHolding(keys, guard.owner, guard.lockTtlMs, guard.busy, async () => {
      const moved = await this.changedSinceRead(read);
      if (moved.length > 0) {
        throw guard.changed(moved);
      }
      return write();
    });
  }

  private async changedSinceRead(read: readonly ReadDocument[]): Promise<ReadDocument[]> {
    const idsByCollection = new Map<string, unknown[]>();
    for (const { collection, storedId } of read) {
      const ids = idsByCollection.get(collection);
      if (ids) {
        ids.push(storedId);
      } else {
        idsByCollection.set(collection, [storedId]);
      }
    }
    const stored = new Map<string, string>();
    for (const [collection, ids] of idsByCollection) {
      for (const doc of await this.documents.findByStoredIds(collection, ids)) {
        stored.set(DocumentLocksRepository.keyOfStored(collection, doc._id), comparable(doc));
      }
    }
    return read.filter(
      (r) => stored.get(DocumentLocksRepository.keyOfStored(r.collection, r.storedId)) !== comparable(r.doc),
    );
  }
}

/** Two reads of a document are the same when their content is, whatever the key order; `_id` is the key. */
function comparable(doc: MetadataDoc): string {
  return canonicalJson(withoutMongoId(doc));
}
