import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import type { AppConfig } from '../config/app-config.js';
import type { AuthService } from '../auth/auth.service.js';
import type { ObjectReadsService } from '../drs/object-reads.service.js';
import type { ObjectRegistrationService } from '../drs/object-registration.service.js';
import type { HubSiteService } from '../jobs/hub-site.service.js';
import { DocumentLocksRepository } from '../metadata/document-locks.repository.js';
import { GuardedWriter } from '../metadata/guarded-writer.service.js';
import type { MetadataDoc, MetadataRepository } from '../metadata/metadata.repository.js';
import type { MetadataStore } from '../metadata/metadata-store.service.js';
import { MetadataSchemaRepository } from '../metadata/schema/metadata-schema.repository.js';
import type {
  ChangesheetsRepository,
  SubmissionRecord,
  TxnLogEntry,
  TxnRecord,
} from './changesheets.repository.js';
import { ChangesheetIntake } from './changesheet-intake.service.js';
import type { ChangesheetStatusView } from './changesheet-status.service.js';
import { ChangesheetWriter } from './changesheet-writer.service.js';

const schema = new MetadataSchemaRepository().load();
const S1 = 'nmdc:sty-11-00000001';
const S2 = 'nmdc:sty-11-00000002';
const S3 = 'nmdc:sty-11-00000003';
const study = (id: string, name: string): MetadataDoc => ({
  id,
  type: 'nmdc:Study',
  name,
  study_category: 'research_study',
});
const SHEET = [
  'id\taction\tattribute\tvalue',
  `${S1}\tupdate\tname\tOne`,
  `${S2}\tupdate\tname\tTwo`,
  `${S3}\tupdate\tname\tThree`,
].join('\n');

/**
 * The writer over in-memory stores, whose document writes fail on the write-th call: what a
 * connection lost midway does to a changesheet.
 */
function serviceFailingAtWrite(failingWrite: number) {
  const documents = new Map<string, MetadataDoc>([
    [S1, study(S1, 'a')],
    [S2, study(S2, 'b')],
    [S3, study(S3, 'c')],
  ]);
  let writes = 0;
  const store = {
    schema,
    collectionSpec: (name: string) => schema.collection(name),
    collectionsForId: (id: string) => schema.collectionsForId(id),
    getDocuments: (_collection: string, ids: readonly string[]) =>
      Promise.resolve(ids.flatMap((id) => (documents.has(id) ? [structuredClone(documents.get(id)!)] : []))),
    replaceDocuments: (_collection: string, docs: readonly MetadataDoc[]) => {
      writes++;
      if (writes === failingWrite) {
        // Half of the slice lands before the failure.
        documents.set(String(docs[0]!.id), structuredClone(docs[0]!));
        return Promise.reject(new Error('connection reset'));
      }
      for (const doc of docs) {
        documents.set(String(doc.id), structuredClone(doc));
      }
      return Promise.resolve(docs.length);
    },
  } as unknown as MetadataStore;
  const submissions = new Map<string, SubmissionRecord>();
  const txns = new Map<string, TxnRecord>();
  const log: TxnLogEntry[] = [];
  const locks = new Map<string, string>();
  const repo = {
    insertSubmission: (r: SubmissionRecord) => {
      if (submissions.has(r._id)) return Promise.resolve(false);
      submissions.set(r._id, r);
      return Promise.resolve(true);
    },
    getSubmission: (id: string) => Promise.resolve(submissions.get(id) ?? null),
    updateSubmission: (id: string, set: Partial<SubmissionRecord>) => {
      submissions.set(id, { ...submissions.get(id)!, ...set });
      return Promise.resolve();
    },
    openTxn: (t: TxnRecord) => {
      txns.set(t._id, t);
      return Promise.resolve();
    },
    finishTxn: (id: string, state: TxnRecord['state'], fields: object) => {
      txns.set(id, { ...txns.get(id)!, state, ...fields });
      return Promise.resolve();
    },
    openTxns: () => Promise.resolve([...txns.values()].filter((t) => t.state === 'open')),
    appendLog: (entries: TxnLogEntry[]) => {
      log.push(...entries);
      return Promise.resolve();
    },
    txnLog: (id: string) => Promise.resolve(log.filter((e) => e.txn_id === id)),
  } as unknown as ChangesheetsRepository;
  const documentLocks = {
    acquire: (keys: readonly string[], owner: string) => {
      const held = keys.filter((k) => locks.has(k) && locks.get(k) !== owner);
      if (held.length === 0) keys.forEach((k) => locks.set(k, owner));
      return Promise.resolve(held);
    },
    release: (owner: string) => {
      for (const [k, v] of locks) if (v === owner) locks.delete(k);
      return Promise.resolve();
    },
    // The real lock lifecycle, over the in-memory acquire and release above.
    whileHolding(...args: Parameters<DocumentLocksRepository['whileHolding']>) {
      return DocumentLocksRepository.prototype.whileHolding.apply(this, args);
    },
  } as unknown as DocumentLocksRepository;
  const objects = {
    describeBlob: () => Promise.resolve({ mimeType: 'text/tab-separated-values' }),
    readBlob: () => Readable.from([Buffer.from(SHEET)]),
    load: () => Promise.resolve({ types: ['metadata-changesheet'], mime_type: 'text/tab-separated-values' }),
  } as unknown as ObjectReadsService;
  const hubSite = {
    describeFailure: (e: Error) => ({ code: 'internal', message: e.message }),
  } as unknown as HubSiteService;
  const config = {
    metadata: { changesheetMaxBytes: 1 << 20 },
    secrets: { urlSigningKey: 'unit-test-signing-key' },
  } as unknown as AppConfig;
  const logger = { warn: () => undefined } as never;
  const stored = {
    findByStoredIds: (_collection: string, ids: readonly unknown[]) =>
      Promise.resolve(
        ids.flatMap((id) =>
          documents.has(String(id)) ? [{ ...structuredClone(documents.get(String(id))!), _id: id }] : [],
        ),
      ),
  } as unknown as MetadataRepository;
  const intake = new ChangesheetIntake(
    config,
    store,
    objects,
    {} as ObjectRegistrationService,
    repo,
    hubSite,
    { registrantHolds: () => Promise.resolve(true) } as unknown as AuthService,
  );
  const service = new ChangesheetWriter(
    logger,
    intake,
    {} as ChangesheetStatusView,
    store,
    repo,
    new GuardedWriter(documentLocks, stored),
    hubSite,
  );
  return { service, documents, txns, log, locks, submissions };
}

describe('ChangesheetWriter.apply', () => {
  it('restores from the txn log every document written before a write failed midway', async () => {
    const { service, documents, txns, locks, submissions, log } = serviceFailingAtWrite(1);
    await expect(service.apply('sheet1', 'op1')).rejects.toThrow(/connection reset/);
    expect([...documents.values()].map((d) => d.name)).toEqual(['a', 'b', 'c']);
    expect([...txns.values()]).toEqual([expect.objectContaining({ state: 'rolled_back', kind: 'apply' })]);
    expect(log.map((e) => [e.id, e.before.name, e.after.name])).toEqual([
      [S1, 'a', 'One'],
      [S2, 'b', 'Two'],
      [S3, 'c', 'Three'],
    ]);
    expect(locks.size).toBe(0);
    expect(submissions.get('sheet1')).toMatchObject({
      status: 'failed',
      error: { message: 'connection reset' },
    });
  });

  it('applies, logs each change and releases its locks', async () => {
    const { service, documents, txns, locks } = serviceFailingAtWrite(99);
    const applied = await service.apply('sheet1', 'op1');
    expect(applied.changed_ids).toEqual([S1, S2, S3]);
    expect([...documents.values()].map((d) => d.name)).toEqual(['One', 'Two', 'Three']);
    expect(txns.get(applied.txn_id)).toMatchObject({ state: 'committed' });
    expect(locks.size).toBe(0);
  });
});
