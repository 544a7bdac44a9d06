/**
 * Contended read-modify-write throughput of the RevisionLog: 64 writers, each incrementing counters of one
 * hot document (a quarter of their writes) and of 1,000 cold ones (the rest, picked at random), against a
 * raw unique-insert baseline in the same run and the same FerretDB: the same writers and choice of
 * documents, each write being nothing but the insert of the next `(document, n)` key into a unique index,
 * retried with the next n on a duplicate. That is the least any correct read-modify-write costs where only
 * unique inserts are atomic; the primitive adds a read of the document, the winner's state for a loser, and
 * the copy onto the document.
 *
 * Reports writes per second on both sides, the ratio (target ≥ 0.5×), and checks the primitive lost
 * nothing: every counter equals the writes aimed at it.
 *
 * BENCH_CONSISTENCY_COLD sets the cold documents (1–100,000, default 1,000), BENCH_CONSISTENCY_WRITES the
 * writes of each writer (1–1,000, default 12) and BENCH_CONSISTENCY_HOT_SHARE the share of them on the hot
 * document (0–1, default 0.25); any other value stops the bench at once.
 */
import { randomBytes } from 'node:crypto';

import type { Collection } from 'mongodb';
import { pino } from 'pino';

import { loadConfig } from '../../src/config/app-config.js';
import { isDuplicateKeyError, retryTransient } from '../../src/infra/mongo/mongo-errors.js';
import { MongoService } from '../../src/infra/mongo/mongo.service.js';
import { RevisionLog } from '../../src/infra/mongo/revision-log.js';
import { reportResults, runBenchmark } from '../lib/report.js';
import { benchInteger, benchNumber } from '../lib/settings.js';

const NAME = 'consistency';
const WRITERS = 64;
/** At most 100× the default: each is created one at a time through the RevisionLog before the measurement. */
const COLD = benchInteger('BENCH_CONSISTENCY_COLD', 1000, 1, 100_000);
/** At most 1,000: 64,000 writes a side take 16–30 minutes at the rates docs/consistency.md reports. */
const WRITES_PER_WRITER = benchInteger('BENCH_CONSISTENCY_WRITES', 12, 1, 1000);
/** A fraction: 0 sends every write to the cold documents, 1 every write to the hot one. */
const HOT_SHARE = benchNumber('BENCH_CONSISTENCY_HOT_SHARE', 0.25, 0, 1);
const TARGET = 0.5;

/** The documents each writer writes, in order: the same plan for both sides. */
function plan(): string[][] {
  return Array.from({ length: WRITERS }, () =>
    Array.from({ length: WRITES_PER_WRITER }, () =>
      Math.random() < HOT_SHARE ? 'hot' : `cold-${Math.floor(Math.random() * COLD)}`,
    ),
  );
}

/** Insert-only: the floor under any serialisation by unique keys (printed for information). */
async function insertsOnly(mongo: MongoService, writes: string[][]): Promise<number> {
  const keys = mongo.collection<{ _id: string }>('insert_only_keys');
  const next = new Map<string, number>();
  const started = performance.now();
  await Promise.all(
    writes.map(async (docs) => {
      for (const doc of docs) {
        for (let n = next.get(doc) ?? 1; ; n++) {
          if (await claimKey(keys, `${doc}:${n}`)) {
            next.set(doc, n + 1);
            break;
          }
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * The raw baseline: the same read-modify-write written inline with nothing but a unique insert — read the
 * document, insert the key of its next version, and on success write the document; on a duplicate read
 * again. No recovery from a writer that dies between its insert and its write, no guard against a slow
 * writer overwriting a newer one: just the bare cost of the mechanism.
 */
async function rawUniqueInsertRmw(mongo: MongoService, writes: string[][]): Promise<number> {
  const docs = mongo.collection<{ _id: string; count: number; n: number }>('raw_counters');
  const keys = mongo.collection<{ _id: string }>('raw_keys');
  await docs.insertMany(
    ['hot', ...Array.from({ length: COLD }, (_, i) => `cold-${i}`)].map((_id) => ({ _id, count: 0, n: 0 })),
  );
  const started = performance.now();
  await Promise.all(
    writes.map(async (plan) => {
      for (const id of plan) {
        for (;;) {
          const doc = await docs.findOne({ _id: id });
          if (!doc) {
            throw new Error(`raw document ${id} is missing`);
          }
          if (await claimKey(keys, `${id}:${doc.n + 1}`)) {
            await retryTransient(
              () => docs.replaceOne({ _id: id }, { count: doc.count + 1, n: doc.n + 1 }),
              1000,
            );
            break;
          }
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

async function claimKey(keys: Collection<{ _id: string }>, key: string): Promise<boolean> {
  try {
    await retryTransient(() => keys.insertOne({ _id: key }), 1000);
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) {
      return false;
    }
    throw error;
  }
}

async function primitive(
  mongo: MongoService,
  writes: string[][],
): Promise<{ seconds: number; lost: number }> {
  const log = new RevisionLog<{ count: number }>(mongo, 'counters');
  await mongo.ensureIndexes();
  for (const id of ['hot', ...Array.from({ length: COLD }, (_, i) => `cold-${i}`)]) {
    await log.insert(id, { count: 0 });
  }
  const started = performance.now();
  await Promise.all(
    writes.map(async (docs) => {
      for (const doc of docs) {
        await log.update(doc, (current) => ({ count: current.count + 1 }));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const expected = new Map<string, number>();
  for (const doc of writes.flat()) {
    expected.set(doc, (expected.get(doc) ?? 0) + 1);
  }
  let lost = 0;
  for (const [doc, count] of expected) {
    lost += count - ((await log.read(doc))?.count ?? 0);
  }
  return { seconds, lost };
}

async function main(): Promise<void> {
  const config = loadConfig({
    MONGO_URL: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017',
    MONGO_DB: `bench_consistency_${randomBytes(4).toString('hex')}`,
    MONGO_POOL_MAX: String(WRITERS + 8),
  });
  const mongo = new MongoService(config, pino({ level: 'silent' }));
  try {
    const writes = plan();
    const total = WRITERS * WRITES_PER_WRITER;
    const hot = writes.flat().filter((doc) => doc === 'hot').length;
    console.log(
      `bench ${NAME}: ${WRITERS} writers × ${WRITES_PER_WRITER} writes (${hot} on the hot document, the rest over ${COLD} cold ones)`,
    );
    const floorSeconds = await insertsOnly(mongo, writes);
    const rawSeconds = await rawUniqueInsertRmw(mongo, writes);
    const { seconds, lost } = await primitive(mongo, writes);
    const rawPerSecond = total / rawSeconds;
    const perSecond = total / seconds;
    const ratio = perSecond / rawPerSecond;
    console.log(
      `unique inserts alone (information): ${total} in ${floorSeconds.toFixed(2)} s = ${(total / floorSeconds).toFixed(1)}/s`,
    );
    console.log(
      `raw unique-insert read-modify-write: ${total} writes in ${rawSeconds.toFixed(2)} s = ${rawPerSecond.toFixed(1)}/s`,
    );
    console.log(
      `RevisionLog.update: ${total} writes in ${seconds.toFixed(2)} s = ${perSecond.toFixed(1)}/s, lost updates ${lost}`,
    );
    const pass = ratio >= TARGET && lost === 0;
    console.log(
      `primitive / raw throughput: ${ratio.toFixed(2)}× (target ≥ ${TARGET}×) — ${pass ? 'PASS' : 'FAIL'}`,
    );
    await reportResults(
      NAME,
      {
        writers: WRITERS,
        writesPerWriter: WRITES_PER_WRITER,
        cold: COLD,
        hotWrites: hot,
        insertsOnly: { seconds: floorSeconds, perSecond: total / floorSeconds },
        raw: { seconds: rawSeconds, perSecond: rawPerSecond },
        primitive: { seconds, perSecond, lost },
        ratio,
        target: TARGET,
        pass,
      },
      pass,
    );
  } finally {
    await mongo.db.dropDatabase().catch(() => undefined);
    await mongo.onApplicationShutdown();
  }
}

runBenchmark(NAME, main);
