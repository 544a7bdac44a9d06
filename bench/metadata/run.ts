/**
 * Metadata benchmark, one run:
 *   submit — POST /metadata/json:submit with 10k documents (one study, 9,999 biosamples) into an empty
 *   store: every check, the DRS blob and the job. Target: accepted (202) in under 10 s.
 *   paging — GET /metadata/biosample_set?max_page_size=100 followed page token by page token through
 *   100k documents, against a raw driver cursor reading the same documents in the same order with the
 *   same batch size. Target: the hub reaches at least 0.5× the cursor's documents per second. The
 *   driver's default batch size is measured too, for reference.
 *
 *   latency — json:submit → applied (the job done) of BENCH_LATENCY_SUBMISSIONS (50) one-study
 *   submissions, one at a time, on a hub with APP_ROLE=all at the default sensor intervals: the job a
 *   submission creates wakes the claim sensor. Target: p50 < 2 s.
 *
 * The hub runs as a real production-mode process (bench/lib/hub.ts: loopback port, its own MONGO_DB,
 * PG_SCHEMA and REDIS_PREFIX, LOG_LEVEL=warn). BENCH_DOCS changes the number of paged documents
 * (100–900,000, default 100,000), BENCH_SUBMIT_DOCS the submitted ones (1–11,000, default 10,000) and
 * BENCH_LATENCY_SUBMISSIONS the latency samples (10–1,000); any other value stops the bench at once.
 */
import { loadavg } from 'node:os';

import { MongoClient } from 'mongodb';

import { biosample, nmdcId, study } from '../../test/support/metadata.js';
import { BENCH_ADMIN_ENV, fetchToken } from '../lib/auth.js';
import { startHub, type BenchHub } from '../lib/hub.js';
import { formatLatency, measureSubmitToApplied, type LatencyReport } from '../lib/latency.js';
import { backgroundCpuLoad } from '../lib/processes.js';
import { documentsSince, type DocumentThroughput, reportResults, runBenchmark } from '../lib/report.js';
import { benchInteger } from '../lib/settings.js';

const NAME = 'metadata';
const PAGE = 100;
/** At least one full page; at most 900,000, so they stay below the submission's ids (900,001 on). */
const DOCS = benchInteger('BENCH_DOCS', 100_000, PAGE, 900_000);
const TARGET = 0.5;
const SEED_BATCH = 1000;
/** One study, the rest biosamples: 11,000 documents (9.8 MB) stay under the hub's 10 MiB BODY_LIMIT_BYTES. */
const SUBMITTED = benchInteger('BENCH_SUBMIT_DOCS', 10_000, 1, 11_000);
const SUBMIT_TARGET_SECONDS = 10;
/** At least ten samples, or the percentiles say nothing. */
const LATENCY_SUBMISSIONS = benchInteger('BENCH_LATENCY_SUBMISSIONS', 50, 10, 1000);
const LATENCY_TARGET_P50_MS = 2000;

/** json:submit → job done, one small submission at a time, on a hub that also runs the orchestrator. */
async function submitToApplied(): Promise<LatencyReport> {
  const hub = await startHub({ role: 'all', env: BENCH_ADMIN_ENV });
  try {
    const token = await fetchToken(hub.url);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    return await measureSubmitToApplied({
      count: LATENCY_SUBMISSIONS,
      submit: async (i) => {
        const res = await fetch(`${hub.url}/metadata/json:submit`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ study_set: [study(800_000 + i)] }),
        });
        const body = (await res.json()) as { job_id?: string };
        if (res.status !== 202 || !body.job_id) {
          throw new Error(`json:submit answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
        }
        return body.job_id;
      },
      state: async (jobId) => {
        const res = await fetch(`${hub.url}/jobs/${jobId}`, { headers });
        const job = (await res.json()) as { status?: string };
        return job.status === 'done' ? 'applied' : job.status === 'failed' ? 'failed' : 'pending';
      },
    });
  } finally {
    await hub.stop();
  }
}

/** Writes the documents the way the hub stores metadata: schema-valid, `_id` equal to `id`. */
async function seed(client: MongoClient, database: string): Promise<void> {
  const collection = client.db(database).collection<{ _id: string }>('biosample_set');
  for (let start = 0; start < DOCS; start += SEED_BATCH) {
    const batch = Array.from({ length: Math.min(SEED_BATCH, DOCS - start) }, (_, i) => {
      const doc = biosample(start + i + 1, nmdcId('sty', 1));
      return { ...doc, _id: doc.id as string };
    });
    await collection.insertMany(batch, { ordered: false });
  }
}

/** The same documents in the same order straight from the driver; no `batchSize` is the driver's default. */
async function rawCursor(
  client: MongoClient,
  database: string,
  batchSize?: number,
): Promise<DocumentThroughput> {
  const started = process.hrtime.bigint();
  let docs = 0;
  const find = client
    .db(database)
    .collection('biosample_set')
    .find({}, { projection: { _id: 0 } })
    .sort({ id: 1 });
  for await (const doc of batchSize ? find.batchSize(batchSize) : find) {
    if (typeof doc.id === 'string') {
      docs++;
    }
  }
  return documentsSince(`raw driver cursor (sort id, batch ${batchSize ?? 'default'})`, docs, started);
}

async function hubPaging(url: string): Promise<DocumentThroughput> {
  const started = process.hrtime.bigint();
  const seen = new Set<string>();
  let token: string | undefined;
  let previous = '';
  do {
    const query = new URLSearchParams({
      max_page_size: String(PAGE),
      ...(token ? { page_token: token } : {}),
    });
    const res = await fetch(`${url}/metadata/biosample_set?${query.toString()}`);
    if (res.status !== 200) {
      throw new Error(`page after ${seen.size} documents: HTTP ${res.status} ${await res.text()}`);
    }
    const body = (await res.json()) as { resources: Array<{ id: string }>; next_page_token?: string };
    for (const doc of body.resources) {
      if (doc.id <= previous || seen.has(doc.id)) {
        throw new Error(`paging returned ${doc.id} out of order or twice`);
      }
      seen.add(doc.id);
      previous = doc.id;
    }
    token = body.next_page_token;
  } while (token);
  if (seen.size !== DOCS) {
    throw new Error(`paging returned ${seen.size} documents, expected ${DOCS}`);
  }
  return documentsSince(`hub GET /metadata/biosample_set?max_page_size=${PAGE}`, seen.size, started);
}

/** One JSON submission, timed from the first byte sent to the 202. */
async function submitOnce(url: string): Promise<{ seconds: number; bytes: number; accepted: unknown }> {
  const accessToken = await fetchToken(url);
  // Ids far above the paging documents', so the two parts never meet.
  const body = JSON.stringify({
    study_set: [{ ...study(900_001), id: nmdcId('sty', 900_001) }],
    biosample_set: Array.from({ length: SUBMITTED - 1 }, (_, i) =>
      biosample(900_001 + i, nmdcId('sty', 900_001)),
    ),
  });
  const started = process.hrtime.bigint();
  const res = await fetch(`${url}/metadata/json:submit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const accepted: unknown = await res.json();
  if (res.status !== 202) {
    throw new Error(`json:submit answered ${res.status}: ${JSON.stringify(accepted).slice(0, 500)}`);
  }
  return { seconds, bytes: body.length, accepted };
}

function print(m: DocumentThroughput): void {
  console.log(
    `${m.label.padEnd(56)} ${String(m.docs).padStart(7)} docs ${m.seconds.toFixed(2).padStart(8)} s ` +
      `${Math.round(m.docsPerSecond).toString().padStart(7)} docs/s`,
  );
}

async function main(): Promise<void> {
  const background = await backgroundCpuLoad();
  let hub: BenchHub | undefined;
  let client: MongoClient | undefined;
  try {
    hub = await startHub({ env: BENCH_ADMIN_ENV });
    const hubEntry = hub.entry;
    client = await MongoClient.connect(hub.mongoUrl);
    console.log(
      `bench ${NAME}: ${DOCS} biosamples, pages of ${PAGE}; hub ${hub.entry}, APP_ROLE=api, LOG_LEVEL=warn; ` +
        `load average ${loadavg()[0]?.toFixed(2)}, background CPU ${Math.round(background * 100)}%`,
    );
    const submission = await submitOnce(hub.url);
    const submitPass = submission.seconds < SUBMIT_TARGET_SECONDS;
    console.log(
      `json:submit of ${SUBMITTED} documents (${(submission.bytes / 1e6).toFixed(1)} MB) into an empty store: ` +
        `202 in ${submission.seconds.toFixed(2)} s (target < ${SUBMIT_TARGET_SECONDS} s) ${submitPass ? 'PASS' : 'FAIL'}`,
    );

    const seedStarted = process.hrtime.bigint();
    await seed(client, hub.mongoDatabase);
    console.log(`seeded in ${(Number(process.hrtime.bigint() - seedStarted) / 1e9).toFixed(1)} s`);

    const raw = await rawCursor(client, hub.mongoDatabase, PAGE);
    const api = await hubPaging(hub.url);
    const rawDefault = await rawCursor(client, hub.mongoDatabase);
    [raw, rawDefault, api].forEach(print);
    const ratio = api.docsPerSecond / raw.docsPerSecond;
    await hub.stop();
    hub = undefined;
    const latency = await submitToApplied();
    const latencyPass = latency.p50Ms < LATENCY_TARGET_P50_MS;
    console.log(
      `${formatLatency('json:submit → applied (one study each, default sensor intervals)', latency)} ` +
        `(target p50 < 2 s) ${latencyPass ? 'PASS' : 'FAIL'}`,
    );
    const pass = ratio >= TARGET && submitPass && latencyPass;
    console.log(
      `hub / raw cursor (batch ${PAGE}): ${ratio.toFixed(2)}× (target ≥ ${TARGET}×) ${ratio >= TARGET ? 'PASS' : 'FAIL'}; ` +
        `against the driver's default batch: ${(api.docsPerSecond / rawDefault.docsPerSecond).toFixed(2)}×`,
    );
    await reportResults(
      NAME,
      {
        hubEntry,
        backgroundCpuLoad: background,
        docs: DOCS,
        page: PAGE,
        raw,
        rawDefault,
        api,
        ratio,
        target: TARGET,
        submit: { docs: SUBMITTED, ...submission, targetSeconds: SUBMIT_TARGET_SECONDS, pass: submitPass },
        latency: { ...latency, targetP50Ms: LATENCY_TARGET_P50_MS, pass: latencyPass },
        pass,
      },
      pass,
    );
  } finally {
    await client?.close();
    await hub?.stop();
  }
}

runBenchmark(NAME, main);
