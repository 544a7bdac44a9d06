/**
 * 1,000 jobs claimed by 64 concurrent site clients through POST /jobs/{id}:claim until all are claimed,
 * against a raw loop of conditional findOneAndUpdate calls (64 concurrent) on 1,000 documents in the same
 * FerretDB. Reports jobs claimed per second on both sides (all of them, divided by the time until the
 * last was claimed), the ratio (target ≥ 0.5×) and double claims (must be 0 for the hub).
 *
 * The baseline's raw write rate is printed too, for information only: on FerretDB its findOneAndUpdate is
 * not atomic, so most of those writes claim a document someone else already holds; counting them as
 * throughput would credit the baseline for wrong answers.
 *
 * BENCH_CLAIM_JOBS changes the number of jobs (64–100,000, default 1,000); any other value stops the bench
 * at once.
 */
import { MongoClient } from 'mongodb';

import { retryTransient } from '../../src/infra/mongo/mongo-errors.js';
import { BENCH_ADMIN_ENV, fetchToken } from '../lib/auth.js';
import { startHub } from '../lib/hub.js';
import { reportResults, runBenchmark } from '../lib/report.js';
import { benchInteger } from '../lib/settings.js';

const NAME = 'claims';
const CLAIMERS = 64;
/** At least one job for each claimer, or some of them only measure finding nothing. */
const JOBS = benchInteger('BENCH_CLAIM_JOBS', 1000, CLAIMERS, 100_000);
const TARGET = 0.5;

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) {
    throw new Error(`${res.status} ${await res.text()}`);
  }
  return (await res.json()) as T;
}

async function rawBaseline(
  mongoUrl: string,
  database: string,
): Promise<{ perSecond: number; writesPerSecond: number; doubleClaims: number; seconds: number }> {
  const client = new MongoClient(mongoUrl, { maxPoolSize: CLAIMERS });
  await client.connect();
  try {
    const collection = client
      .db(database)
      .collection<{ n: number; claimed: boolean; by?: number }>('raw_claims');
    await collection.insertMany(Array.from({ length: JOBS }, (_, n) => ({ n, claimed: false })));
    let successes = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLAIMERS }, async (_, claimer) => {
        for (;;) {
          // FerretDB answers SQLITE_BUSY under this contention; the hub retries such writes, so the baseline does too.
          const doc = await retryTransient(
            () => collection.findOneAndUpdate({ claimed: false }, { $set: { claimed: true, by: claimer } }),
            1000,
          );
          if (!doc) {
            return;
          }
          successes++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return {
      perSecond: JOBS / seconds,
      writesPerSecond: successes / seconds,
      doubleClaims: successes - JOBS,
      seconds,
    };
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const hub = await startHub({
    env: { ...BENCH_ADMIN_ENV, TOKEN_RATE_LIMIT: '100000' },
  });
  try {
    const admin = await fetchToken(hub.url);
    const auth = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
    console.log(`bench ${NAME}: registering ${CLAIMERS} sites and ${JOBS} jobs`);
    const siteTokens: string[] = [];
    for (let i = 0; i < CLAIMERS; i++) {
      await json(
        await fetch(`${hub.url}/sites`, {
          method: 'POST',
          headers: auth(admin),
          body: JSON.stringify({ id: `bench-${i}`, capability_ids: ['test'] }),
        }),
      );
      const creds = await json<{ client_id: string; client_secret: string }>(
        await fetch(`${hub.url}/sites/bench-${i}:generateCredentials`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}` },
        }),
      );
      siteTokens.push(await fetchToken(hub.url, { grant_type: 'client_credentials', ...creds }));
    }
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, JOBS - i) }, async () =>
          json<{ id: string }>(
            await fetch(`${hub.url}/jobs`, {
              method: 'POST',
              headers: auth(siteTokens[0]!),
              body: JSON.stringify({ workflow: { id: 'test' }, config: {} }),
            }),
          ),
        ),
      );
      jobIds.push(...batch.map((j) => j.id));
    }

    const remaining = new Set(jobIds);
    const winners = new Map<string, number>();
    let requests = 0;
    const started = performance.now();
    await Promise.all(
      siteTokens.map(async (t) => {
        while (remaining.size > 0) {
          const pool = [...remaining];
          const jobId = pool[Math.floor(Math.random() * pool.length)]!;
          const res = await fetch(`${hub.url}/jobs/${jobId}:claim`, {
            method: 'POST',
            headers: { authorization: `Bearer ${t}` },
          });
          requests++;
          await res.arrayBuffer().catch(() => undefined);
          if (res.status === 200) {
            winners.set(jobId, (winners.get(jobId) ?? 0) + 1);
            remaining.delete(jobId);
          } else if (res.status === 409) {
            remaining.delete(jobId);
          } else {
            const errors = (hub.output?.() ?? '').split('\n').filter((line) => line.includes('"level":50'));
            throw new Error(`claim answered ${res.status}; hub errors:\n${errors.slice(-3).join('\n')}`);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const hubPerSecond = JOBS / seconds;
    let stored = 0;
    for (const jobId of jobIds) {
      const job = await json<{ claims: unknown[] }>(await fetch(`${hub.url}/jobs/${jobId}`));
      stored += job.claims.length;
    }
    const doubleClaims = [...winners.values()].filter((n) => n > 1).length + (stored - JOBS);
    const unclaimed = JOBS - winners.size;

    const raw = await rawBaseline(hub.mongoUrl, hub.mongoDatabase);
    const ratio = hubPerSecond / raw.perSecond;
    console.log('');
    console.log(
      `hub:  ${JOBS} jobs claimed in ${seconds.toFixed(2)} s = ${hubPerSecond.toFixed(1)} claims/s (${requests} requests), double claims ${doubleClaims}, unclaimed ${unclaimed}`,
    );
    console.log(
      `raw:  ${JOBS} documents claimed in ${raw.seconds.toFixed(2)} s = ${raw.perSecond.toFixed(1)} claims/s, double claims ${raw.doubleClaims} (${raw.writesPerSecond.toFixed(0)} claiming writes/s)`,
    );
    const pass = ratio >= TARGET && doubleClaims === 0 && unclaimed === 0;
    console.log(
      `hub / raw throughput: ${ratio.toFixed(2)}× (target ≥ ${TARGET}×) — ${pass ? 'PASS' : 'FAIL'}`,
    );
    await reportResults(
      NAME,
      {
        jobs: JOBS,
        claimers: CLAIMERS,
        hub: { seconds, perSecond: hubPerSecond, requests, doubleClaims, unclaimed },
        raw,
        ratio,
        target: TARGET,
        pass,
      },
      pass,
    );
  } finally {
    await hub.stop();
  }
}

runBenchmark(NAME, main);
