import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrate, readMigrations } from '../src/infra/postgres/migrator.js';
import { isolatedEnv } from './support/harness.js';
import { FIXTURES } from './support/orchestrator.js';
import { collect, exited, spawnHub } from './support/process.js';

// Each test starts several CLI processes at once, each booting Nest: on a busy 2-core machine that
// alone can take longer than the default 30 s.
describe('runtime-hub job / runs commands', () => {
  const env: Record<string, string> = { ...isolatedEnv(), LOG_LEVEL: 'warn', ORCH_CODE_LOCATIONS: FIXTURES };
  let dir: string;

  async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawnHub('src/cli.ts', args, { ...env, BLOB_DIR: dir });
    const output = collect(child);
    const { code } = await exited(child);
    return { code, stdout: output.stdout(), stderr: output.stderr() };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rh-orch-cli-'));
    const pool = new pg.Pool({ connectionString: env.DATABASE_URL });
    await migrate(pool, env.PG_SCHEMA as string, await readMigrations());
    await pool.end();
  });
  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: env.DATABASE_URL });
    await pool.query(`DROP SCHEMA IF EXISTS "${env.PG_SCHEMA}" CASCADE`);
    await pool.end();
    const redis = new Redis(env.REDIS_URL as string);
    const keys = await redis.keys(`${env.REDIS_PREFIX}:*`);
    if (keys.length > 0) {
      await redis.del(...keys);
    }
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('executes housekeeping, which sweeps old leftovers of the blob store and keeps younger ones', async () => {
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const dead = join(dir, 'tmp', 'dead.part');
    const young = join(dir, 'tmp', 'young.part');
    await writeFile(dead, 'half an upload');
    await writeFile(young, 'an upload on its way');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    await utimes(dead, twoDaysAgo, twoDaysAgo);
    const run = await cli('job', 'execute', 'housekeeping');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /sweep_blob_leftovers\s+removed 1 blob leftover\(s\) and aborted 0 unfinished upload\(s\)/,
    );
    expect(await readdir(join(dir, 'tmp'))).toEqual(['young.part']);
  });

  it('lists jobs and executes them in process, exiting 0 only on success', async () => {
    await writeFile(
      join(dir, 'small.json'),
      JSON.stringify({ ops: { generate_numbers: { config: { upTo: 4 } } } }),
    );
    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify({ ops: { generate_numbers: { config: { upTo: 0, x: 1 } } } }),
    );
    const [list, ok, bad, failing] = await Promise.all([
      cli('job', 'list'),
      cli('job', 'execute', 'hello', '--config', join(dir, 'small.json')),
      cli('job', 'execute', 'hello', '--config', join(dir, 'bad.json')),
      cli('job', 'execute', 'fixable_job'),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('hello  (steps in order: generate_numbers, filter_even_numbers');
    expect(list.stdout).toContain('housekeeping');

    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/RUN_START/);
    expect(ok.stdout).toMatch(/LOGS\s+sum_two_sums\s+the two sums add up to 10/);
    expect(lines.at(-1)).toMatch(/^run [0-9a-f-]{36} SUCCESS$/);
    // An in-process run leaves no trace in run storage, so the command says where a stored run comes from.
    expect(ok.stderr).toContain('not stored');
    expect(ok.stderr).toContain('runtime-hub job launch');

    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ops.generate_numbers.config.upTo');
    expect(bad.stderr).toContain('ops.generate_numbers.config.x');

    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/STEP_FAILURE\s+second/);
    expect(failing.stdout).toMatch(/FAILURE$/m);
  }, 120_000);

  it('launches a run through Redis, shows, cancels and lists it', async () => {
    const launched = await cli('job', 'launch', 'hello', '--tag', 'team=qa');
    expect(launched.code).toBe(0);
    const runId = /^([0-9a-f-]{36})\s+QUEUED/.exec(launched.stdout)?.[1] as string;
    expect(runId).toBeDefined();
    const [shown, queued, none] = await Promise.all([
      cli('runs', 'show', runId, '--events'),
      cli('runs', 'list', '--status', 'QUEUED', '--job', 'hello'),
      cli('runs', 'list', '--job', 'no_such_job'),
    ]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('no runs (job no_such_job)\n');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('"team": "qa"');
    expect(shown.stdout).toContain('"createdBy": "cli"');
    expect(shown.stdout).toMatch(/RUN_ENQUEUED/);
    expect(queued.stdout).toContain(runId);
    const [canceled, unknown] = await Promise.all([
      cli('runs', 'cancel', runId),
      cli('runs', 'show', '00000000-0000-0000-0000-000000000000'),
    ]);
    expect(canceled.code).toBe(0);
    expect(canceled.stdout).toMatch(new RegExp(`${runId}\\s+CANCELED`));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No run has id');
  }, 120_000);
});
