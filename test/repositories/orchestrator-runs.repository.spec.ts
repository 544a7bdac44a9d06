import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { loadConfig } from '../../src/config/app-config.js';
import { PostgresService } from '../../src/infra/postgres/postgres.service.js';
import { makeEvent, type RunStatus } from '../../src/orchestrator/core/index.js';
import { isDataError } from '../../src/orchestrator/storage/pg-safe.js';
import { EventRepository } from '../../src/orchestrator/storage/event.repository.js';
import { RunRepository } from '../../src/orchestrator/storage/run.repository.js';
import { isolatedEnv } from '../support/harness.js';

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly Plans?: readonly PlanNode[];
}

/** The scans of `table` in an `EXPLAIN (FORMAT JSON)` plan: `Seq Scan`, `Index Scan using <index>`… */
function scansIn(plan: PlanNode, table: string): string[] {
  const here =
    plan['Relation Name'] === table && plan['Node Type'].endsWith('Scan')
      ? [plan['Index Name'] ? `${plan['Node Type']} using ${plan['Index Name']}` : plan['Node Type']]
      : [];
  return [...here, ...(plan.Plans ?? []).flatMap((child) => scansIn(child, table))];
}

/** A RunRepository on a migrated PostgreSQL schema of its own, with `env` over the isolated defaults. */
async function openRepository(
  env: Record<string, string> = {},
): Promise<{ postgres: PostgresService; runs: RunRepository }> {
  const postgres = new PostgresService(loadConfig({ ...isolatedEnv(), ...env }));
  await postgres.migrate();
  return { postgres, runs: new RunRepository(postgres) };
}

/** Drops the schema {@link openRepository} made and closes its pool. */
async function closeRepository(postgres: PostgresService): Promise<void> {
  await postgres.query(`DROP SCHEMA IF EXISTS "${postgres.schema}" CASCADE`).catch(() => undefined);
  await postgres.onApplicationShutdown();
}

/** RunRepository on PostgreSQL, in a schema of its own: the statements the run workers share. */
describe('RunRepository', () => {
  let postgres: PostgresService;
  let runs: RunRepository;

  /** Creates `count` runs and puts them in `status` (as the coordinator would have). */
  async function runsIn(status: string, count: number, priorities: number[] = []): Promise<string[]> {
    const created = await runs.insertRuns(
      Array.from({ length: count }, (_, i) => ({
        runId: randomUUID(),
        jobName: 'noop_job',
        runConfig: {},
        tags: {},
        instigatorType: 'manual' as const,
        priority: priorities[i] ?? 0,
      })),
    );
    const ids = created.map((run) => run.runId);
    await postgres.query('UPDATE orch_runs SET status = $2 WHERE run_id = ANY($1::uuid[])', [ids, status]);
    return ids;
  }

  async function eventTypes(runId: string): Promise<string[]> {
    const { rows } = await postgres.query<{ event_type: string }>(
      'SELECT event_type FROM orch_event_logs WHERE run_id = $1 ORDER BY id',
      [runId],
    );
    return rows.map((r) => r.event_type);
  }

  /**
   * How PostgreSQL would run a statement the repository sent, as the scans of each table in its plan
   * (`Seq Scan`, `Index Scan using <index>`, `Tid Scan`…), without running it again.
   */
  async function scansOf(statement: unknown[], table: string): Promise<string[]> {
    const [text, values] = textOf(statement);
    const { rows } = await postgres.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${text}`,
      values,
    );
    return scansIn(rows[0]?.['QUERY PLAN'][0].Plan as PlanNode, table);
  }

  /** Watches every statement sent through the pool, plain or prepared. */
  function statementsSent() {
    return vi.spyOn(postgres.pool, 'query');
  }

  /** What `action` resolves to, and the first statement it sent through the pool. */
  async function firstStatementOf<T>(action: () => Promise<T>): Promise<{ result: T; statement: unknown[] }> {
    const statements = statementsSent();
    try {
      const result = await action();
      return { result, statement: statements.mock.calls[0] as unknown[] };
    } finally {
      statements.mockRestore();
    }
  }

  /** The text and parameters of a statement the pool was given, plain or prepared. */
  function textOf(call: unknown[]): [string, unknown[] | undefined] {
    const [first, values] = call as [string | { text: string; values?: unknown[] }, unknown[] | undefined];
    return typeof first === 'string' ? [first, values] : [first.text, first.values];
  }

  beforeAll(async () => {
    ({ postgres, runs } = await openRepository());
  });
  afterAll(() => closeRepository(postgres));

  it('applies concurrent transitions in one statement, each caller getting its own run and events in order', async () => {
    const ids = await runsIn('STARTING', 20);
    const statements = statementsSent();
    const claimed = await Promise.all(
      ids.map((runId, i) =>
        runs.transition(runId, {
          from: ['STARTING'],
          to: 'STARTED',
          fence: 0,
          workerId: `worker-${i}`,
          events: [makeEvent('RUN_START', `start ${i}`), makeEvent('ENGINE_EVENT', `after start ${i}`)],
        }),
      ),
    );
    expect(statements).toHaveBeenCalledTimes(1);
    statements.mockRestore();
    claimed.forEach((run, i) => {
      expect(run).toMatchObject({ runId: ids[i], status: 'STARTED', workerId: `worker-${i}` });
      expect(run?.startTime).toBeInstanceOf(Date);
    });
    for (const runId of ids) {
      expect(await eventTypes(runId)).toEqual(['RUN_ENQUEUED', 'RUN_START', 'ENGINE_EVENT']);
    }
  });

  it('moves a run listed twice in one batch once, and refuses a transition from another status or fence', async () => {
    const [twice, fenced, queued] = (await runsIn('STARTING', 3)) as [string, string, string];
    await postgres.query(`UPDATE orch_runs SET status = 'QUEUED' WHERE run_id = $1`, [queued]);
    const start = (runId: string, fence = 0) =>
      runs.transition(runId, {
        from: ['STARTING'],
        to: 'STARTED',
        fence,
        events: [makeEvent('RUN_START', 'started')],
      });
    const [first, second, wrongFence, wrongStatus] = await Promise.all([
      start(twice),
      start(twice),
      start(fenced, 1),
      start(queued),
    ]);
    expect([first, second].filter((run) => run !== undefined)).toHaveLength(1);
    expect(await eventTypes(twice)).toEqual(['RUN_ENQUEUED', 'RUN_START']);
    expect(wrongFence).toBeUndefined();
    expect(wrongStatus).toBeUndefined();
    expect(await eventTypes(fenced)).toEqual(['RUN_ENQUEUED']);
  });

  it('returns each created run exactly as a later read of it, without reading its columns back', async () => {
    const parent = randomUUID();
    const news = [
      { start: false },
      { start: true, runConfig: { ops: { op: { config: { upTo: 10, ratio: 0.5, list: [1, 'a', null] } } } } },
      {
        start: true,
        startedBy: 'worker-7',
        createdBy: 'alice',
        tags: { team: 'metadata', 'dagster/priority': '3' },
      },
      {
        instigatorType: 'schedule' as const,
        instigatorName: 'nightly',
        scheduledTime: new Date('2026-12-04T10:11:12.345Z'),
        parentRunId: parent,
        rootRunId: parent,
        stepKeysToExecute: ['a', 'b'],
        priority: -2,
      },
      { instigatorType: 'sensor' as const, instigatorName: 'watcher', runKey: 'key-1' },
    ].map((variant) => ({
      runId: randomUUID(),
      jobName: 'noop_job',
      runConfig: {},
      tags: {},
      instigatorType: 'manual' as const,
      ...variant,
    }));
    const statements = statementsSent();
    const created = await runs.insertRuns(news);
    const { rows } = (await statements.mock.results[0]?.value) as { rows: Record<string, unknown>[] };
    statements.mockRestore();
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(['created_at', 'outbox_id', 'run_id', 'status']);
    expect(created.map((run) => run.status)).toEqual(['QUEUED', 'STARTING', 'STARTED', 'QUEUED', 'QUEUED']);
    expect(created[1]?.outboxId).toEqual(expect.any(Number));
    for (const run of created) {
      const { outboxId: _outboxId, ...record } = run;
      expect(record).toStrictEqual(await runs.get(run.runId));
    }
  });

  it('finishes runs in the statement other transitions share, reading back only the runs whose record was asked for', async () => {
    const [claimedId, finishedId, fencedId] = (await runsIn('STARTED', 3)) as [string, string, string];
    await postgres.query(`UPDATE orch_runs SET status = 'STARTING' WHERE run_id = $1`, [claimedId]);
    const statements = statementsSent();
    const [claimed, finished, fenced] = await Promise.all([
      runs.transition(claimedId, {
        from: ['STARTING'],
        to: 'STARTED',
        workerId: 'worker-1',
        events: [makeEvent('RUN_START', 'started')],
      }),
      runs.finish(finishedId, {
        from: ['STARTED'],
        to: 'SUCCESS',
        fence: 0,
        outputs: [{ stepKey: 'op', output: 'result', value: 42 }],
        events: [makeEvent('RUN_SUCCESS', 'finished')],
      }),
      runs.finish(fencedId, {
        from: ['STARTED'],
        to: 'SUCCESS',
        fence: 1,
        events: [makeEvent('RUN_SUCCESS', 'finished')],
      }),
    ]);
    expect(statements).toHaveBeenCalledTimes(1);
    const { rows } = (await statements.mock.results[0]?.value) as { rows: Record<string, unknown>[] };
    statements.mockRestore();
    expect(claimed).toMatchObject({ runId: claimedId, status: 'STARTED', workerId: 'worker-1' });
    expect(finished).toBe(true);
    expect(fenced).toBe(false);
    // The finished run's row carries its id and nothing of its record.
    const finishedRow = rows.find((row) => row.request_index === 1);
    expect(finishedRow).toMatchObject({ run_id: null, status: null, run_config: null, created_at: null });
    expect(await runs.get(finishedId)).toMatchObject({ status: 'SUCCESS', endTime: expect.any(Date) });
    expect(await runs.loadOutput(finishedId, 'op', 'result')).toEqual({ found: true, value: 42 });
    expect(await eventTypes(finishedId)).toEqual(['RUN_ENQUEUED', 'RUN_SUCCESS']);
    expect((await runs.get(fencedId))?.status).toBe('STARTED');
    expect(await eventTypes(fencedId)).toEqual(['RUN_ENQUEUED']);
  });

  it('stores the tags and outputs of a batch without a check per row against orch_runs', async () => {
    /** The per-row triggers `statement` fires when it runs, read from its plan and rolled back. */
    const triggersOf = async (statement: unknown[]): Promise<unknown[]> => {
      const [text, values] = textOf(statement);
      const client = await postgres.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ 'QUERY PLAN': [{ Triggers?: unknown[] }] }>(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`,
          values,
        );
        return rows[0]?.['QUERY PLAN'][0].Triggers ?? [];
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };
    const tagged = (runId: string) => ({
      runId,
      jobName: 'noop_job',
      runConfig: {},
      tags: { team: 'metadata', site: 'nersc' },
      instigatorType: 'manual' as const,
      start: true,
      startedBy: 'worker-1',
    });
    // The statement that created two tagged runs, explained again for two other new runs.
    const { statement: insert } = await firstStatementOf(() => runs.insertRuns([tagged(randomUUID())]));
    const [insertText, [insertInput]] = textOf(insert) as [string, [string]];
    const relabelled = JSON.stringify(
      (JSON.parse(insertInput) as { run_id: string }[]).map((run) => ({ ...run, run_id: randomUUID() })),
    );
    expect(await triggersOf([{ text: insertText, values: [relabelled] }])).toEqual([]);

    const [first, second] = [randomUUID(), randomUUID()];
    await runs.insertRuns([tagged(first), tagged(second)]);
    const finish = (runId: string) =>
      runs.finish(runId, {
        from: ['STARTED'],
        to: 'SUCCESS',
        fence: 0,
        outputs: [{ stepKey: 'op', output: 'result', value: { rows: 1 } }],
        events: [makeEvent('RUN_SUCCESS', 'finished')],
      });
    // The statement that finished the first run, explained again for the second, still STARTED.
    const { statement: transition } = await firstStatementOf(() => finish(first));
    const [transitionText, transitionValues] = textOf(transition);
    const input = (transitionValues?.[0] as string).replaceAll(first, second);
    expect(await triggersOf([{ text: transitionText, values: [input, [second]] }])).toEqual([]);
    expect(await finish(second)).toBe(true);
    expect(await runs.loadOutput(second, 'op', 'result')).toEqual({ found: true, value: { rows: 1 } });
  });

  it('fails only the run whose output PostgreSQL refuses when runs finish together', async () => {
    const ids = await runsIn('STARTED', 3);
    const finish = (runId: string, value: unknown) =>
      runs.transition(runId, {
        from: ['STARTED'],
        to: 'SUCCESS',
        outputs: [{ stepKey: 'op', output: 'result', value }],
        events: [makeEvent('STEP_SUCCESS', 'done', { stepKey: 'op' }), makeEvent('RUN_SUCCESS', 'finished')],
      });
    const outcomes = await Promise.allSettled([
      finish(ids[0] as string, { rows: 1 }),
      finish(ids[1] as string, { text: `binary${String.fromCharCode(0)}` }),
      finish(ids[2] as string, null),
    ]);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: { status: 'SUCCESS' } });
    expect(outcomes[1]?.status).toBe('rejected');
    expect(isDataError((outcomes[1] as PromiseRejectedResult).reason)).toBe(true);
    expect(outcomes[2]).toMatchObject({ status: 'fulfilled', value: { status: 'SUCCESS' } });
    expect(await runs.loadOutput(ids[0] as string, 'op', 'result')).toEqual({
      found: true,
      value: { rows: 1 },
    });
    expect(await runs.loadOutput(ids[2] as string, 'op', 'result')).toEqual({ found: true, value: null });
    expect((await runs.get(ids[1] as string))?.status).toBe('STARTED');
    expect(await eventTypes(ids[2] as string)).toEqual(['RUN_ENQUEUED', 'STEP_SUCCESS', 'RUN_SUCCESS']);
  });

  it('starts queued runs without limits in one statement, by priority then age, leaving other runs alone', async () => {
    await postgres.query(`UPDATE orch_runs SET status = 'CANCELED' WHERE status = 'QUEUED'`);
    const [low, high, later] = (await runsIn('QUEUED', 3, [0, 5, 0])) as [string, string, string];
    const [started] = (await runsIn('STARTED', 1)) as [string];
    const statements = statementsSent();
    const messages = await runs.dequeueUnlimited(2);
    expect(statements).toHaveBeenCalledTimes(1);
    statements.mockRestore();
    expect(messages.map((m) => m.payload)).toEqual([
      { runId: high, attempt: 0 },
      { runId: low, attempt: 0 },
    ]);
    expect(messages.every((m) => m.kind === 'execute-run')).toBe(true);
    expect((await runs.get(high))?.status).toBe('STARTING');
    expect(await eventTypes(high)).toEqual(['RUN_ENQUEUED', 'RUN_STARTING']);
    expect((await runs.get(later))?.status).toBe('QUEUED');
    expect((await runs.get(started))?.status).toBe('STARTED');
    expect((await runs.dequeueUnlimited(10)).map((m) => m.payload.runId)).toEqual([later]);
  });

  it('creates the runs of a batch marked start in STARTING with their events and outbox messages, the others QUEUED', async () => {
    const run = (start: boolean) => ({
      runId: randomUUID(),
      jobName: 'noop_job',
      runConfig: {},
      tags: { team: 'qa' },
      instigatorType: 'manual' as const,
      start,
    });
    const [started, queued] = [run(true), run(false)];
    const created = await runs.insertRuns([started, queued]);
    expect(created.find((r) => r.runId === started.runId)).toMatchObject({ status: 'STARTING' });
    expect(created.find((r) => r.runId === queued.runId)).toMatchObject({ status: 'QUEUED' });
    expect(created.find((r) => r.runId === queued.runId)?.outboxId).toBeUndefined();
    const outboxId = created.find((r) => r.runId === started.runId)?.outboxId;
    const { rows } = await postgres.query<{ id: string; kind: string; payload: unknown }>(
      'SELECT id, kind, payload FROM orch_outbox WHERE dispatched_at IS NULL AND payload->>$1 = ANY($2::text[])',
      ['runId', [started.runId, queued.runId]],
    );
    expect(rows.map((r) => ({ id: Number(r.id), kind: r.kind, payload: r.payload }))).toEqual([
      { id: outboxId, kind: 'execute-run', payload: { runId: started.runId, attempt: 0 } },
    ]);
    expect(await eventTypes(started.runId)).toEqual(['RUN_ENQUEUED', 'RUN_STARTING']);
    expect(await eventTypes(queued.runId)).toEqual(['RUN_ENQUEUED']);
    const { rows: tags } = await postgres.query<{ key: string }>(
      'SELECT key FROM orch_run_tags WHERE run_id = $1',
      [started.runId],
    );
    expect(tags.map((t) => t.key)).toEqual(['team']);
  });

  it('finds the runs of a batch of transitions by key in a history of thousands of runs', async () => {
    await runsIn('SUCCESS', 10_000);
    const ids = await runsIn('STARTING', 25);
    const { statement: transition } = await firstStatementOf(() =>
      Promise.all(
        ids.map((runId) =>
          runs.transition(runId, {
            from: ['STARTING'],
            to: 'STARTED',
            fence: 0,
            events: [makeEvent('RUN_START', 'started')],
          }),
        ),
      ),
    );
    expect(await scansOf(transition, 'orch_runs')).not.toContain('Seq Scan');
  });

  it('reads the queue once in a pass without limits, updating the very rows it picked', async () => {
    await runsIn('SUCCESS', 10_000);
    await runsIn('QUEUED', 25);
    const { result: started, statement: pass } = await firstStatementOf(() => runs.dequeueUnlimited(10));
    expect(started).toHaveLength(10);
    expect(await scansOf(pass, 'orch_runs')).toEqual(['Index Scan using orch_runs_active', 'Tid Scan']);
  });

  it("lists runs by status and reads a run's events through indexes that runs ending in success leave", async () => {
    await runsIn('SUCCESS', 10_000);
    const [queued] = await runsIn('QUEUED', 3);
    await runsIn('FAILURE', 3);
    await postgres.query('ANALYZE orch_runs');
    await postgres.query('ANALYZE orch_event_logs');
    const scansOfList = async (statuses: RunStatus[]): Promise<string[]> => {
      const { result: listed, statement } = await firstStatementOf(() => runs.list({ statuses, limit: 2 }));
      expect(listed.runs.map((r) => r.status)).toEqual([statuses[0], statuses[0]]);
      return scansOf(statement, 'orch_runs');
    };
    expect((await scansOfList(['QUEUED']))[0]).toMatch(/using orch_runs_active$/);
    expect((await scansOfList(['FAILURE']))[0]).toMatch(/using orch_runs_unsuccessful$/);

    const events = new EventRepository(postgres);
    const { result: read, statement } = await firstStatementOf(() => events.list(queued!, 0, 10));
    expect(read.map((e) => e.type)).toEqual(['RUN_ENQUEUED']);
    expect((await scansOf(statement, 'orch_event_logs'))[0]).toMatch(/using orch_event_logs_pkey$/);
  });
});

/**
 * The statements every run repeats are prepared once per connection, and PostgreSQL settles each on a
 * generic plan after five executions, chosen for the tables as they were then: on a fresh schema, a
 * scan of the few runs there are. An ANALYZE of the table (autovacuum's, in production) replans it.
 */
describe("RunRepository's prepared statements", () => {
  let postgres: PostgresService;
  let runs: RunRepository;

  beforeAll(async () => {
    // One connection, so the plans inspected below are the ones the repository's executions cached.
    ({ postgres, runs } = await openRepository({ PG_POOL_MAX: '1' }));
  });
  afterAll(() => closeRepository(postgres));

  it('finds the runs of a transition by key once the grown history is analyzed, however small it was when prepared', async () => {
    const startedRun = async (): Promise<string> => {
      const runId = randomUUID();
      await runs.insertRun({
        runId,
        jobName: 'noop_job',
        runConfig: {},
        tags: {},
        instigatorType: 'manual',
        start: true,
        startedBy: 'worker-1',
      });
      return runId;
    };
    const finish = (runId: string): Promise<boolean> =>
      runs.finish(runId, {
        from: ['STARTED'],
        to: 'SUCCESS',
        fence: 0,
        events: [makeEvent('RUN_SUCCESS', 'finished')],
      });
    // Past the five executions after which PostgreSQL may settle on a generic plan, on a tiny table.
    for (let i = 0; i < 8; i++) {
      expect(await finish(await startedRun())).toBe(true);
    }
    await postgres.query(
      `INSERT INTO orch_runs (run_id, job_name, status)
       SELECT gen_random_uuid(), 'noop_job', 'SUCCESS' FROM generate_series(1, 20000)`,
    );
    await postgres.query('ANALYZE orch_runs');
    const runId = await startedRun();
    const input = JSON.stringify([
      {
        i: 0,
        record: false,
        run_id: runId,
        to_status: 'SUCCESS',
        from_statuses: ['STARTED'],
        events: [],
        outputs: [],
      },
    ]);
    const { rows } = await postgres.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE orch_transition_runs('${input}', ARRAY['${runId}']::uuid[])`,
    );
    const scans = scansIn(rows[0]?.['QUERY PLAN'][0].Plan as PlanNode, 'orch_runs');
    expect(scans).toHaveLength(1);
    expect(scans).not.toContain('Seq Scan');
    expect(await finish(runId)).toBe(true);
  });
});
