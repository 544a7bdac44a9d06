import { randomBytes } from 'node:crypto';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/app-config.js';
import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { DELETE_DOCUMENT, RevisionLog, type Revision } from '../src/infra/mongo/revision-log.js';
import { isolatedEnv } from './support/harness.js';

interface Counter {
  count: number;
  [field: string]: unknown;
}

/** A writer held between committing a revision and copying it onto the document, until released. */
function heldWriter(): {
  options: { beforeCopy: (id: string, rev: Revision) => Promise<void> };
  committed: Promise<void>;
  release: () => void;
} {
  let release!: () => void;
  let signalCommitted!: () => void;
  const committed = new Promise<void>((resolve) => (signalCommitted = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let first = true;
  return {
    options: {
      beforeCopy: async () => {
        if (first) {
          first = false;
          signalCommitted();
          await released;
        }
      },
    },
    committed,
    release,
  };
}

describe('RevisionLog on FerretDB', () => {
  let mongo: MongoService;
  let log: RevisionLog<Counter>;
  const collection = 'counters';

  beforeAll(async () => {
    const config = loadConfig({ ...isolatedEnv(), MONGO_POOL_MAX: '80' });
    mongo = new MongoService(config, pino({ level: 'silent' }));
    log = new RevisionLog<Counter>(mongo, collection);
    await mongo.ensureIndexes();
  });

  afterAll(async () => {
    await mongo.db.dropDatabase().catch(() => undefined);
    await mongo.onApplicationShutdown();
  });

  const raw = (id: string) => mongo.collection<{ _id: string }>(collection).findOne({ _id: id });

  it('keeps every change of 64 concurrent writers, round after round, one revision each', async () => {
    const id = `hot-${randomBytes(3).toString('hex')}`;
    expect(await log.insert(id, { count: 0 })).toBe(true);
    expect(await log.insert(id, { count: 0 })).toBe(false);
    const rounds = 2;
    for (let round = 0; round < rounds; round++) {
      const results = await Promise.all(
        Array.from({ length: 64 }, (_, writer) =>
          log.update(id, (current) => ({
            ...current,
            count: current.count + 1,
            [`r${round}w${writer}`]: true,
          })),
        ),
      );
      expect(results.every((result) => result?.changed)).toBe(true);
    }
    const doc = await log.read(id);
    expect(doc?.count).toBe(64 * rounds);
    for (let round = 0; round < rounds; round++) {
      for (let writer = 0; writer < 64; writer++) {
        expect(doc?.[`r${round}w${writer}`]).toBe(true);
      }
    }
    // The copy on the document is the latest revision, not just what read() reconstructs.
    expect(await raw(id)).toMatchObject({ count: 64 * rounds, _rev: { n: 64 * rounds } });
    expect(await mongo.collection('revisions').countDocuments({ doc_id: id })).toBe(64 * rounds);
  }, 90_000);

  it('answers "nothing changed" without committing, and refuses only on the latest state', async () => {
    const id = `refuse-${randomBytes(3).toString('hex')}`;
    await log.insert(id, { count: 0 });
    expect(await log.update(id, () => null)).toEqual({ doc: { count: 0 }, changed: false });
    await expect(
      log.update(id, () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await log.update('missing', (c) => c)).toBeNull();
    expect(await mongo.collection('revisions').countDocuments({ doc_id: id })).toBe(0);
  });

  it('builds on the revision of a writer that died before copying it, and repairs the document', async () => {
    const id = `dead-${randomBytes(3).toString('hex')}`;
    await log.insert(id, { count: 0 });
    const dying = heldWriter();
    // Never released: this writer is gone after committing revision 1.
    void new RevisionLog<Counter>(mongo, collection, dying.options).update(id, (c) => ({
      ...c,
      count: c.count + 1,
      dead: true,
    }));
    await dying.committed;
    expect(await raw(id)).toMatchObject({ count: 0, _rev: { n: 0 } });
    // Readers and writers see the committed revision at once.
    expect(await log.read(id)).toMatchObject({ count: 1, dead: true });
    const next = await log.update(id, (c) => ({ ...c, count: c.count + 1, alive: true }));
    expect(next?.doc).toMatchObject({ count: 2, dead: true, alive: true });
    expect(await raw(id)).toMatchObject({ count: 2, dead: true, alive: true, _rev: { n: 2 } });

    // With nobody writing after it, a reader copies the abandoned revision onto the document.
    const id2 = `dead2-${randomBytes(3).toString('hex')}`;
    await log.insert(id2, { count: 0 });
    const dying2 = heldWriter();
    void new RevisionLog<Counter>(mongo, collection, dying2.options).update(id2, (c) => ({ ...c, count: 7 }));
    await dying2.committed;
    const reader = new RevisionLog<Counter>(mongo, collection, { abandonedAfterMs: 0 });
    expect(await reader.read(id2)).toMatchObject({ count: 7 });
    expect(await raw(id2)).toMatchObject({ count: 7, _rev: { n: 1 } });
  });

  it('never leaves a slow copier’s older revision on the document', async () => {
    const id = `slow-${randomBytes(3).toString('hex')}`;
    await log.insert(id, { count: 0 });
    const slow = heldWriter();
    const slowWrite = new RevisionLog<Counter>(mongo, collection, slow.options).update(id, (c) => ({
      ...c,
      count: c.count + 1,
      slow: true,
    }));
    await slow.committed;
    await log.update(id, (c) => ({ ...c, count: c.count + 1, fast: true }));
    expect(await raw(id)).toMatchObject({ count: 2, slow: true, fast: true, _rev: { n: 2 } });
    // The slow writer now copies its revision 1 over revision 2, sees revision 2 and copies it back.
    slow.release();
    expect((await slowWrite)?.changed).toBe(true);
    expect(await raw(id)).toMatchObject({ count: 2, slow: true, fast: true, _rev: { n: 2 } });
  });

  it('recovers the truth when a slow copier dies right after regressing the document', async () => {
    const id = `regress-${randomBytes(3).toString('hex')}`;
    await log.insert(id, { count: 0 });
    await log.update(id, (c) => ({ ...c, count: 1, first: true }));
    await log.update(id, (c) => ({ ...c, count: 2, second: true }));
    // What a copier of revision 1 leaves when it dies between its copy and its look for a newer revision.
    const rev1 = await mongo.collection<{ _id: string; state: { _rev: Revision } }>('revisions').findOne({
      doc_id: id,
      n: 1,
    });
    await mongo.collection<{ _id: string }>(collection).replaceOne({ _id: id }, rev1!.state);
    expect(await raw(id)).toMatchObject({ count: 1, _rev: { n: 1 } });

    expect(await log.read(id)).toMatchObject({ count: 2, first: true, second: true });
    const third = await log.update(id, (c) => ({ ...c, count: c.count + 1, third: true }));
    expect(third?.doc).toMatchObject({ count: 3, first: true, second: true, third: true });
    expect(await raw(id)).toMatchObject({ count: 3, _rev: { n: 3 } });
  });

  it('sweeps old revisions only once the document shows them, repairing a lagging copy first', async () => {
    const id = `sweep-${randomBytes(3).toString('hex')}`;
    await log.insert(id, { count: 0 });
    await log.update(id, (c) => ({ ...c, count: 1 }));
    const dying = heldWriter();
    void new RevisionLog<Counter>(mongo, collection, dying.options).update(id, (c) => ({ ...c, count: 2 }));
    await dying.committed;
    expect(await raw(id)).toMatchObject({ count: 1 });
    await log.sweep(new Date(Date.now() + 60_000));
    expect(await raw(id)).toMatchObject({ count: 2, _rev: { n: 2 } });
    expect(await mongo.collection('revisions').countDocuments({ doc_id: id })).toBe(0);
    expect((await log.update(id, (c) => ({ ...c, count: c.count + 1 })))?.doc).toMatchObject({ count: 3 });
  });

  it('deletes through the chain: a racing change never brings the document back', async () => {
    for (let round = 0; round < 5; round++) {
      const id = `del-${round}-${randomBytes(3).toString('hex')}`;
      await log.insert(id, { count: 0 });
      const outcomes = await Promise.all([
        ...Array.from({ length: 16 }, () => log.update(id, (c) => ({ ...c, count: c.count + 1 }))),
        log.delete(id),
      ]);
      expect(outcomes.at(-1)).toBe(true);
      expect(await raw(id)).toBeNull();
      expect(await log.read(id)).toBeNull();
      expect(await log.update(id, (c) => c)).toBeNull();
      // The same id created again starts a chain of its own.
      expect(await log.insert(id, { count: 100 })).toBe(true);
      expect((await log.update(id, (c) => ({ ...c, count: c.count + 1 })))?.doc).toEqual({ count: 101 });
    }
  });

  it('deletes only when the change function allows it', async () => {
    const id = `keep-${randomBytes(3).toString('hex')}`;
    await log.insert(id, { count: 5 });
    expect(await log.delete(id, (c) => c.count > 0)).toBe(false);
    expect(await log.read(id)).toEqual({ count: 5 });
    expect((await log.update(id, () => DELETE_DOCUMENT))?.doc).toBeNull();
    expect(await log.read(id)).toBeNull();
  });
});
