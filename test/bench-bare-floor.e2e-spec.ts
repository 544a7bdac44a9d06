import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresService } from '../src/infra/postgres/postgres.service.js';
import { startTestHub, type TestHub } from './support/harness.js';
import {
  adminClient,
  FAST_ORCHESTRATOR_ENV,
  launchRun,
  waitFor,
  waitForStatus,
  type ApiClient,
} from './support/orchestrator.js';
import { collect, exited, freePort, spawnTypeScript, waitForHttp } from './support/process.js';

const BENCH_DEFINITIONS = fileURLToPath(new URL('../bench/orchestrator/definitions.ts', import.meta.url));

interface StoredRun {
  status: string;
  workerSet: boolean;
  timesSet: boolean;
  events: { type: string; stepKey: string | null; level: string; message: string; data: unknown }[];
  outputs: { step_key: string; output_name: string; value: unknown }[];
}

/**
 * `bench:orchestrator` reads the hub against a bare floor: a `node:http` server that makes, through the
 * hub's repository, the writes a launch of `bench_noop_job` makes. The comparison only means something
 * while the two write the same rows, so this launches one run through each and compares what PostgreSQL
 * holds (timings in messages aside).
 */
describe("bench:orchestrator's bare floor", () => {
  let hub: TestHub;
  let api: ApiClient;
  let postgres: PostgresService;
  let bare: ChildProcess;
  let bareUrl: string;
  let bareSchema: string;

  beforeAll(async () => {
    hub = await startTestHub({
      env: {
        ...FAST_ORCHESTRATOR_ENV,
        ORCH_MAX_CONCURRENT_RUNS: '-1',
        ORCH_CODE_LOCATIONS: BENCH_DEFINITIONS,
      },
    });
    api = await adminClient(hub);
    postgres = hub.app.get(PostgresService);
    bareSchema = `${hub.config.postgres.schema}_bare`;
    const port = await freePort();
    bareUrl = `http://127.0.0.1:${port}`;
    bare = spawnTypeScript('bench/orchestrator/bare-hub.ts', [], {
      DATABASE_URL: hub.config.postgres.url,
      PG_SCHEMA: bareSchema,
      SERVICE_NAME: 'bare-floor-test',
      PORT: String(port),
    });
    const output = collect(bare);
    await Promise.race([
      waitForHttp(bareUrl),
      exited(bare).then(({ code }) => {
        throw new Error(`the bare floor exited (${code}): ${output.stderr()}`);
      }),
    ]);
  }, 60_000);

  afterAll(async () => {
    if (bare && bare.exitCode === null) {
      const done = exited(bare);
      bare.kill('SIGTERM');
      await done;
    }
    await postgres?.query(`DROP SCHEMA IF EXISTS "${bareSchema}" CASCADE`);
    await hub?.close();
  });

  /** A run as PostgreSQL holds it in `schema`, with the digits of its messages (durations) masked. */
  async function stored(schema: string, runId: string): Promise<StoredRun> {
    const { rows: runs } = await postgres.query<{ status: string; worker_set: boolean; times_set: boolean }>(
      `SELECT status, worker_id IS NOT NULL AS worker_set,
         (start_time IS NOT NULL AND end_time IS NOT NULL AND heartbeat_at IS NOT NULL) AS times_set
       FROM "${schema}".orch_runs WHERE run_id = $1`,
      [runId],
    );
    const { rows: events } = await postgres.query<{
      type: string;
      stepKey: string | null;
      level: string;
      message: string;
      data: Record<string, unknown> | null;
    }>(
      `SELECT event_type AS type, step_key AS "stepKey", level, message, data
       FROM "${schema}".orch_event_logs WHERE run_id = $1 ORDER BY id`,
      [runId],
    );
    const { rows: outputs } = await postgres.query<StoredRun['outputs'][number]>(
      `SELECT step_key, output_name, value FROM "${schema}".orch_step_outputs WHERE run_id = $1`,
      [runId],
    );
    return {
      status: runs[0]?.status ?? 'missing',
      workerSet: runs[0]?.worker_set ?? false,
      timesSet: runs[0]?.times_set ?? false,
      events: events.map((e) => ({
        ...e,
        message: e.message.replace(/\d+/g, 'N'),
        // The worker's id and the step's duration differ from run to run; their presence does not.
        data: e.data && Object.fromEntries(Object.keys(e.data).map((key) => [key, typeof e.data?.[key]])),
      })),
      outputs,
    };
  }

  it('writes what a launch through the hub writes: the run, its seven events and its output', async () => {
    const launched = await launchRun(api, 'bench_noop_job');
    expect(launched.status).toBe('STARTED');
    await waitForStatus(api, launched.runId, ['SUCCESS', 'FAILURE'], 10_000);

    const answer = await fetch(`${bareUrl}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(answer.status).toBe(201);
    const { runId } = (await answer.json()) as { runId: string };
    const fromBare = await waitFor('the bare floor to finish its run', async () => {
      const run = await stored(bareSchema, runId);
      return run.status === 'SUCCESS' ? run : undefined;
    });

    const fromHub = await stored(hub.config.postgres.schema, launched.runId);
    expect(fromHub.status).toBe('SUCCESS');
    expect(fromHub.events.map((e) => e.type)).toEqual([
      'RUN_ENQUEUED',
      'RUN_STARTING',
      'RUN_START',
      'STEP_START',
      'STEP_OUTPUT',
      'STEP_SUCCESS',
      'RUN_SUCCESS',
    ]);
    expect(fromBare).toEqual(fromHub);
  });
});
