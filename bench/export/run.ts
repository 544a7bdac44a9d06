/**
 * Export benchmark, one run over N small documents (data objects, ~350 bytes of JSON each) in
 * data_object_set:
 *   insert baseline — the documents written with raw insertMany batches of 1,000 (how the store is seeded).
 *   export baseline — a raw driver cursor (sorted by id, batches of 1,000) → JSON lines → zlib gzip → a file.
 *   hub export — POST /metadata/exports until the export_metadata run succeeds: every collection streamed,
 *   hashed, stored and registered as DRS blobs plus a bundle, with the orchestrator's overhead included.
 *   Target: ≥ 0.7× the export baseline's documents per second.
 *   hub import — the collection emptied, then POST /metadata/imports of the bundle until the import_metadata
 *   run succeeds: gunzip, parse, schema validation and upserts by id. Target: ≥ 0.5× the insert baseline.
 *
 * The hub runs as a real production-mode process (APP_ROLE=all, so its own workers run the jobs).
 * BENCH_EXPORT_DOCS changes N (1,000–10,000,000, default 1,000,000, which takes several minutes on
 * FerretDB); any other value stops the bench at once.
 * BENCH_BLOB_STORE=s3 exports into the S3 store the S3 tests use (SeaweedFS, started if needed), and the
 * export baseline then streams cursor → gzip → `@aws-sdk/lib-storage` upload into the same bucket.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

import { Upload } from '@aws-sdk/lib-storage';
import { MongoClient } from 'mongodb';

import {
  emptyS3Prefix,
  ensureTestS3,
  rawS3Client,
  reclaimS3Space,
  s3Env,
  TEST_S3,
  testS3Prefix,
} from '../../test/support/s3.js';

import { dataObject } from '../../test/support/metadata.js';
import { BENCH_ADMIN_ENV, fetchToken } from '../lib/auth.js';
import { startHub, type BenchHub } from '../lib/hub.js';
import { backgroundCpuLoad } from '../lib/processes.js';
import { secondaryIndexes } from '../lib/mongo.js';
import { documentsSince, type DocumentThroughput, reportResults, runBenchmark } from '../lib/report.js';
import { benchInteger } from '../lib/settings.js';

const NAME = 'export';
const BATCH = 1000;
/** At least one batch of each baseline; at most ten times the default, which takes minutes already. */
const DOCS = benchInteger('BENCH_EXPORT_DOCS', 1_000_000, BATCH, 10_000_000);
const EXPORT_TARGET = 0.7;
const IMPORT_TARGET = 0.5;
const COLLECTION = 'data_object_set';
const S3 = process.env.BENCH_BLOB_STORE === 's3';
const S3_PREFIX = testS3Prefix();

function print(m: DocumentThroughput): void {
  console.log(
    `${m.label.padEnd(64)} ${String(m.docs).padStart(8)} docs ${m.seconds.toFixed(2).padStart(8)} s ` +
      `${Math.round(m.docsPerSecond).toString().padStart(7)} docs/s`,
  );
}

/** The insert baseline: raw insertMany batches into the empty collection, `_id` equal to `id` as the hub stores. */
async function insertBaseline(client: MongoClient, database: string): Promise<DocumentThroughput> {
  const collection = client.db(database).collection<{ _id: string }>(COLLECTION);
  const started = process.hrtime.bigint();
  for (let start = 0; start < DOCS; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, DOCS - start) }, (_, i) => {
      const doc = dataObject(start + i + 1);
      return { ...doc, _id: doc.id as string };
    });
    await collection.insertMany(batch, { ordered: false });
  }
  return documentsSince(`raw insertMany, batches of ${BATCH}`, DOCS, started);
}

/** The export baseline: what a hand-written export script would do, into a plain file. */
async function exportBaseline(
  client: MongoClient,
  database: string,
  dir: string,
): Promise<DocumentThroughput> {
  const started = process.hrtime.bigint();
  let docs = 0;
  const cursor = client
    .db(database)
    .collection(COLLECTION)
    .find({}, { projection: { _id: 0 } })
    .sort({ id: 1 })
    .batchSize(BATCH);
  async function* lines(): AsyncGenerator<string> {
    for await (const doc of cursor) {
      docs++;
      yield `${JSON.stringify(doc)}\n`;
    }
  }
  if (S3) {
    const client = rawS3Client();
    try {
      const gzip = createGzip();
      const piped = pipeline(Readable.from(lines()), gzip);
      await Promise.all([
        piped,
        new Upload({
          client,
          params: { Bucket: TEST_S3.bucket, Key: `${S3_PREFIX}raw/${COLLECTION}.jsonl.gz`, Body: gzip },
          partSize: 8 * 1024 * 1024,
          queueSize: 4,
        }).done(),
      ]);
    } finally {
      client.destroy();
    }
    return documentsSince('raw cursor → JSON lines → gzip → S3 (lib-storage)', docs, started);
  }
  const path = join(dir, `${COLLECTION}.jsonl.gz`);
  await pipeline(Readable.from(lines()), createGzip(), createWriteStream(path));
  const measured = documentsSince('raw cursor → JSON lines → gzip → file', docs, started);
  console.log(`baseline file: ${(await stat(path)).size} bytes`);
  return measured;
}

async function api(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function runToEnd(url: string, token: string, runId: string): Promise<void> {
  for (;;) {
    const run = await api(url, token, 'GET', `/orchestrator/runs/${runId}`);
    const status = String(run.json.status);
    if (status === 'SUCCESS') {
      return;
    }
    if (status === 'FAILURE' || status === 'CANCELED') {
      const events = await api(url, token, 'GET', `/orchestrator/runs/${runId}/events?limit=1000`);
      throw new Error(`run ${runId} ended ${status}: ${JSON.stringify(events.json).slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function hubExport(
  url: string,
  token: string,
): Promise<{ measured: DocumentThroughput; bundleId: string }> {
  const started = process.hrtime.bigint();
  const launched = await api(url, token, 'POST', '/metadata/exports');
  if (launched.status !== 202) {
    throw new Error(`POST /metadata/exports answered ${launched.status}: ${JSON.stringify(launched.json)}`);
  }
  await runToEnd(url, token, String(launched.json.run_id));
  const measured = documentsSince('hub POST /metadata/exports → run SUCCESS', DOCS, started);
  const list = await api(url, token, 'GET', '/metadata/exports?max_page_size=1');
  const [bundle] = list.json.resources as { id: string }[];
  if (!bundle) {
    throw new Error('the export run succeeded but lists no bundle');
  }
  return { measured, bundleId: bundle.id };
}

async function hubImport(url: string, token: string, bundleId: string): Promise<DocumentThroughput> {
  const started = process.hrtime.bigint();
  const launched = await api(url, token, 'POST', '/metadata/imports', { object_id: bundleId });
  if (launched.status !== 202) {
    throw new Error(`POST /metadata/imports answered ${launched.status}: ${JSON.stringify(launched.json)}`);
  }
  await runToEnd(url, token, String(launched.json.run_id));
  return documentsSince('hub POST /metadata/imports → run SUCCESS', DOCS, started);
}

async function main(): Promise<void> {
  const background = await backgroundCpuLoad();
  const dir = await mkdtemp(join(tmpdir(), 'rh-bench-export-'));
  let hub: BenchHub | undefined;
  let client: MongoClient | undefined;
  try {
    if (S3) {
      await ensureTestS3();
    }
    hub = await startHub({
      role: 'all',
      env: { ...BENCH_ADMIN_ENV, ...(S3 ? s3Env(S3_PREFIX) : {}) },
    });
    client = await MongoClient.connect(hub.mongoUrl);
    console.log(
      `bench ${NAME}: ${DOCS} data objects in ${COLLECTION}; blobs ${S3 ? `S3 at ${TEST_S3.endpoint}` : 'local'}; ` +
        `hub ${hub.entry}, APP_ROLE=all, LOG_LEVEL=warn; ` +
        `load average ${loadavg()[0]?.toFixed(2)}, background CPU ${Math.round(background * 100)}%`,
    );
    const token = await fetchToken(hub.url);

    const insert = await insertBaseline(client, hub.mongoDatabase);
    print(insert);
    const rawExport = await exportBaseline(client, hub.mongoDatabase, dir);
    print(rawExport);
    const { measured: exported, bundleId } = await hubExport(hub.url, token);
    print(exported);

    // drop(), not deleteMany({}): FerretDB's SQLite backend fails deleting 200k+ documents in one statement.
    // The hub's indexes are put back, so the import maintains them as the insert baseline did.
    const target = client.db(hub.mongoDatabase).collection(COLLECTION);
    const indexes = await secondaryIndexes(target);
    await target.drop();
    await target.createIndexes(indexes);
    const imported = await hubImport(hub.url, token, bundleId);
    print(imported);
    const count = await client.db(hub.mongoDatabase).collection(COLLECTION).countDocuments({});
    if (count !== DOCS) {
      throw new Error(`the import left ${count} documents, expected ${DOCS}`);
    }

    const exportRatio = exported.docsPerSecond / rawExport.docsPerSecond;
    const baselineName = S3 ? 'raw cursor→gzip→S3' : 'raw cursor→gzip→file';
    const importRatio = imported.docsPerSecond / insert.docsPerSecond;
    const exportPass = exportRatio >= EXPORT_TARGET;
    const importPass = importRatio >= IMPORT_TARGET;
    console.log(
      `export: hub / ${baselineName} ${exportRatio.toFixed(2)}× (target ≥ ${EXPORT_TARGET}×) ${exportPass ? 'PASS' : 'FAIL'}`,
    );
    console.log(
      `import: hub / raw insertMany ${importRatio.toFixed(2)}× (target ≥ ${IMPORT_TARGET}×) ${importPass ? 'PASS' : 'FAIL'}`,
    );
    await reportResults(
      S3 ? `${NAME}-s3` : NAME,
      {
        hubEntry: hub.entry,
        blobStore: S3 ? 's3' : 'local',
        backgroundCpuLoad: background,
        docs: DOCS,
        insert,
        rawExport,
        exported,
        imported,
        exportRatio,
        importRatio,
        exportTarget: EXPORT_TARGET,
        importTarget: IMPORT_TARGET,
        pass: exportPass && importPass,
      },
      exportPass && importPass,
    );
  } finally {
    await client?.close();
    await hub?.stop();
    await rm(dir, { recursive: true, force: true });
    if (S3) {
      await emptyS3Prefix(S3_PREFIX);
      await reclaimS3Space();
    }
  }
}

runBenchmark(NAME, main);
