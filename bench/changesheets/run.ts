/**
 * Changesheet benchmark, one run, over 2,000 studies and a 10,000-row sheet (five rows per study:
 * name, description, title, ecosystem and an inserted website):
 *   validate — POST /metadata/changesheets:validate of the whole sheet. Target: under 5 s.
 *   apply — the hub applies the submitted sheet (step perform_changesheet_updates of its
 *   apply_changesheet run: re-plan against the current documents, concurrency checks, locks, the txn
 *   log and the writes) against a raw bulkWrite of the same 2,000 replacements into a copy of the
 *   collection with the same indexes, in the same run, in the largest commands FerretDB v1 answers (the
 *   baseline's own choice, not the hub's). Target: the hub reaches at least 0.5× the raw documents per
 *   second.
 *
 *   latency — submit → applied of BENCH_LATENCY_SHEETS (50) one-row sheets, one at a time, at the
 *   sensors' default intervals (30 s trigger, 10 s claim): only the wake-ups a submission sends make
 *   it fast. Target: p50 < 2 s, p99 < 5 s.
 *
 * The hub runs as a real production-mode process with APP_ROLE=all (its worker applies the sheet).
 * BENCH_SHEET_DOCS changes the number of studies (1–40,000, default 2,000), BENCH_LATENCY_SHEETS the
 * latency samples (10–1,000) and BENCH_MAX_POLLS how many times, 100 ms apart, the apply is polled before
 * the bench gives up (100–100,000, default 6,000: ten minutes); any other value stops the bench at once.
 */
import { loadavg } from 'node:os';

import { MongoClient, type AnyBulkWriteOperation } from 'mongodb';

import { nmdcId, study } from '../../test/support/metadata.js';
import { BENCH_ADMIN_ENV, fetchToken } from '../lib/auth.js';
import { startHub, type BenchHub } from '../lib/hub.js';
import { formatLatency, measureSubmitToApplied } from '../lib/latency.js';
import { backgroundCpuLoad } from '../lib/processes.js';
import { secondaryIndexes } from '../lib/mongo.js';
import { reportResults, runBenchmark } from '../lib/report.js';
import { benchInteger } from '../lib/settings.js';

const NAME = 'changesheets';
const ROWS_PER_DOC = 5;
/** At most 40,000: the hub accepts sheets of up to 200,000 rows (src/changesheets/changesheet-parser.ts). */
const DOCS = benchInteger('BENCH_SHEET_DOCS', 2_000, 1, 200_000 / ROWS_PER_DOC);
const VALIDATE_TARGET_SECONDS = 5;
const APPLY_TARGET = 0.5;
/** At least ten samples, or the percentiles say nothing. */
const LATENCY_SHEETS = benchInteger('BENCH_LATENCY_SHEETS', 50, 10, 1000);
const LATENCY_TARGET = { p50Ms: 2000, p99Ms: 5000 };
const POLL_MS = 100;
/** Polls of the submitted sheet, POLL_MS apart, before the bench gives up: 10 s to about 3 hours. */
const MAX_POLLS = benchInteger('BENCH_MAX_POLLS', 6000, 100, 100_000);
/**
 * The raw baseline's statements per bulkWrite command: the most FerretDB v1 answers (an update command of
 * 100 or more statements never returns). MongoDB takes far more, but the copy lives on the same engine.
 */
const RAW_STATEMENTS_PER_COMMAND = 99;

type Doc = Record<string, unknown> & { _id: string };

function sheet(): string {
  const rows = ['id\taction\tattribute\tvalue'];
  for (let n = 1; n <= DOCS; n++) {
    rows.push(
      `${nmdcId('sty', n)}\tupdate\tname\tRevised study ${n}`,
      `\t\tdescription\tA revised description of study ${n}`,
      `\t\ttitle\tTitle ${n}`,
      `\t\tecosystem\tEnvironmental`,
      `\tinsert\twebsites\thttps://studies.example.org/${n}`,
    );
  }
  return `${rows.join('\n')}\n`;
}

/** What the sheet makes of a study: the replacement the raw baseline writes. */
function revised(n: number): Doc {
  const id = nmdcId('sty', n);
  return {
    ...study(n),
    _id: id,
    name: `Revised study ${n}`,
    description: `A revised description of study ${n}`,
    title: `Title ${n}`,
    ecosystem: 'Environmental',
    websites: [`https://studies.example.org/${n}`],
  };
}

async function api<T>(url: string, init: RequestInit & { token?: string }, expected: number): Promise<T> {
  const { token, ...rest } = init;
  const res = await fetch(url, {
    ...rest,
    headers: {
      ...(rest.headers as Record<string, string>),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
  const text = await res.text();
  if (res.status !== expected) {
    throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  }
  return JSON.parse(text) as T;
}

async function main(): Promise<void> {
  const background = await backgroundCpuLoad();
  let hub: BenchHub | undefined;
  let client: MongoClient | undefined;
  try {
    // The sensors' default intervals: submissions wake them.
    hub = await startHub({ role: 'all', env: BENCH_ADMIN_ENV });
    client = await MongoClient.connect(hub.mongoUrl);
    const db = client.db(hub.mongoDatabase);
    console.log(
      `bench ${NAME}: ${DOCS} studies, ${DOCS * ROWS_PER_DOC} rows; hub ${hub.entry}, APP_ROLE=all, LOG_LEVEL=warn; ` +
        `load average ${loadavg()[0]?.toFixed(2)}, background CPU ${Math.round(background * 100)}%`,
    );
    const seeded = Array.from({ length: DOCS }, (_, i) => ({ ...study(i + 1), _id: nmdcId('sty', i + 1) }));
    await db.collection<Doc>('study_set').insertMany(seeded, { ordered: false });
    // The baseline's copy carries the hub's indexes on study_set, so both writes maintain the same ones.
    const indexes = await secondaryIndexes(db.collection('study_set'));
    if (indexes.length > 0) {
      await db.collection('bench_raw_study_set').createIndexes(indexes);
    }
    await db.collection<Doc>('bench_raw_study_set').insertMany(seeded, { ordered: false });

    const token = await fetchToken(hub.url);
    const body = sheet();
    const post = { method: 'POST', headers: { 'content-type': 'text/tab-separated-values' }, body, token };

    const validateStarted = process.hrtime.bigint();
    const validated = await api<{ changes: unknown[] }>(
      `${hub.url}/metadata/changesheets:validate`,
      post,
      200,
    );
    const validateSeconds = Number(process.hrtime.bigint() - validateStarted) / 1e9;
    if (validated.changes.length !== DOCS) {
      throw new Error(`validate planned ${validated.changes.length} changes, expected ${DOCS}`);
    }
    const validatePass = validateSeconds < VALIDATE_TARGET_SECONDS;
    console.log(
      `validate of ${DOCS * ROWS_PER_DOC} rows (${(body.length / 1e6).toFixed(2)} MB): ${validateSeconds.toFixed(2)} s ` +
        `(target < ${VALIDATE_TARGET_SECONDS} s) ${validatePass ? 'PASS' : 'FAIL'}`,
    );

    const submitted = await api<{ object: { id: string }; status_url: string }>(
      `${hub.url}/metadata/changesheets:submit`,
      post,
      202,
    );
    const endToEndStarted = process.hrtime.bigint();
    let status: { status: string; run: { run_id: string } | null; error?: unknown };
    for (let polls = 0; ; polls++) {
      if (polls > MAX_POLLS) {
        throw new Error(
          `the sheet was not applied within ${MAX_POLLS} polls ${POLL_MS} ms apart (BENCH_MAX_POLLS): ` +
            JSON.stringify(status!).slice(0, 800),
        );
      }
      status = await api(
        `${hub.url}/metadata/changesheets/${submitted.object.id}`,
        { token, signal: AbortSignal.timeout(10_000) },
        200,
      );
      if (process.env.BENCH_DEBUG && polls % 20 === 0) {
        console.log(JSON.stringify(status).slice(0, 400));
      }
      if (status.status !== 'pending' && status.run) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const endToEndSeconds = Number(process.hrtime.bigint() - endToEndStarted) / 1e9;
    if (status.status !== 'applied') {
      throw new Error(`the sheet was not applied: ${JSON.stringify(status).slice(0, 800)}`);
    }
    const events = await api<{ resources: { type: string; stepKey?: string; timestamp: string }[] }>(
      `${hub.url}/orchestrator/runs/${status.run.run_id}/events`,
      { token },
      200,
    );
    const at = (type: string): number => {
      const event = events.resources.find(
        (e) => e.type === type && e.stepKey === 'perform_changesheet_updates',
      );
      if (!event) {
        throw new Error(`no ${type} event for perform_changesheet_updates`);
      }
      return Date.parse(event.timestamp);
    };
    const applySeconds = (at('STEP_SUCCESS') - at('STEP_START')) / 1000;

    const raw = db.collection<Doc>('bench_raw_study_set');
    const operations: AnyBulkWriteOperation<Doc>[] = Array.from({ length: DOCS }, (_, i) => ({
      replaceOne: { filter: { _id: nmdcId('sty', i + 1) }, replacement: revised(i + 1) },
    }));
    const rawStarted = process.hrtime.bigint();
    for (let start = 0; start < operations.length; start += RAW_STATEMENTS_PER_COMMAND) {
      await raw.bulkWrite(operations.slice(start, start + RAW_STATEMENTS_PER_COMMAND), { ordered: false });
    }
    const rawSeconds = Number(process.hrtime.bigint() - rawStarted) / 1e9;

    const stored = await db.collection<Doc>('study_set').findOne({ _id: nmdcId('sty', DOCS) });
    const { _id: _ignored, ...expected } = revised(DOCS);
    const { _id: _ignored2, ...actual } = stored ?? { _id: '' };
    if (JSON.stringify(Object.entries(actual).sort()) !== JSON.stringify(Object.entries(expected).sort())) {
      throw new Error(`the hub wrote ${JSON.stringify(actual)}, the baseline ${JSON.stringify(expected)}`);
    }
    const ratio = rawSeconds / applySeconds;
    const applyPass = ratio >= APPLY_TARGET;
    console.log(
      `raw bulkWrite of ${DOCS} replacements: ${rawSeconds.toFixed(2)} s, ${Math.round(DOCS / rawSeconds)} docs/s`,
    );
    console.log(
      `hub perform_changesheet_updates: ${applySeconds.toFixed(2)} s, ${Math.round(DOCS / applySeconds)} docs/s ` +
        `(submit → applied seen: ${endToEndSeconds.toFixed(2)} s)`,
    );
    console.log(`hub / raw: ${ratio.toFixed(2)}× (target ≥ ${APPLY_TARGET}×) ${applyPass ? 'PASS' : 'FAIL'}`);
    const hubUrl = hub.url;
    const latency = await measureSubmitToApplied({
      count: LATENCY_SHEETS,
      submit: async (i) =>
        (
          await api<{ object: { id: string } }>(
            `${hubUrl}/metadata/changesheets:submit`,
            {
              ...post,
              body: `id\taction\tattribute\tvalue\n${nmdcId('sty', 1)}\tupdate\ttitle\tLatency ${i}\n`,
            },
            202,
          )
        ).object.id,
      state: async (id) => {
        const s = await api<{ status: string }>(`${hubUrl}/metadata/changesheets/${id}`, { token }, 200);
        return s.status === 'applied' ? 'applied' : s.status === 'pending' ? 'pending' : 'failed';
      },
    });
    const latencyPass = latency.p50Ms < LATENCY_TARGET.p50Ms && latency.p99Ms < LATENCY_TARGET.p99Ms;
    console.log(
      `${formatLatency('changesheet submit → applied (one-row sheets, default sensor intervals)', latency)} ` +
        `(target p50 < 2 s, p99 < 5 s) ${latencyPass ? 'PASS' : 'FAIL'}`,
    );
    const pass = validatePass && applyPass && latencyPass;
    await reportResults(
      NAME,
      {
        hubEntry: hub.entry,
        backgroundCpuLoad: background,
        docs: DOCS,
        rows: DOCS * ROWS_PER_DOC,
        validate: { seconds: validateSeconds, targetSeconds: VALIDATE_TARGET_SECONDS, pass: validatePass },
        apply: {
          seconds: applySeconds,
          endToEndSeconds,
          rawSeconds,
          ratio,
          target: APPLY_TARGET,
          pass: applyPass,
        },
        latency: { ...latency, target: LATENCY_TARGET, pass: latencyPass },
        pass,
      },
      pass,
    );
  } catch (error) {
    console.error(`hub output (last 4 kB):\n${hub?.output?.().slice(-4000) ?? ''}`);
    throw error;
  } finally {
    await client?.close();
    await hub?.stop();
  }
}

runBenchmark(NAME, main);
