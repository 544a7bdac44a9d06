import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isolatedEnv } from './support/harness.js';
import { collect, exited, ROOT, spawnHub, waitForHttp } from './support/process.js';
import { readme, walkthroughBlocks, walkthroughEnv } from './support/readme.js';

/** A free port in this suite's spare range when one is, else any free port. */
async function sparePort(): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(port)));
    });
  const base = Number(process.env.WALKTHROUGH_PORT_BASE ?? 31800);
  for (let i = 0; i < 100; i += 1) {
    const port = await tryPort(base + ((Date.now() + i) % 100));
    if (port) {
      return port;
    }
  }
  const any = await tryPort(0);
  if (!any) {
    throw new Error('no free port');
  }
  return any;
}

/** Runs one bash script; resolves with its exit code and output. */
function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/**
 * The README's walkthroughs, extracted from README.md and run in order in one shell against a fresh hub
 * started with the README's own `.env` settings (an admin and DEMO_DATA=true) on its own databases.
 */
describe('the README walkthroughs, on a fresh hub with the demo data', () => {
  const markdown = readme();
  const env: Record<string, string> = {
    ...isolatedEnv(),
    ...walkthroughEnv(markdown),
    LOG_LEVEL: 'warn',
    // Only the waiting is shortened: the runs coordinator and the sensors that claim submitted work.
    ORCH_DEQUEUE_INTERVAL_MS: '300',
    ORCH_SENSOR_INTERVALS: JSON.stringify({
      claim_and_run_apply_changesheet_jobs: 1,
      claim_and_run_metadata_in_jobs: 1,
      process_workflow_job_triggers: 1,
    }),
  };
  let hub: ReturnType<typeof spawnHub>;
  let hubOutput: ReturnType<typeof collect>;
  let url: string;
  let blobDir: string;

  beforeAll(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'rh-walkthrough-'));
    const port = await sparePort();
    url = `http://127.0.0.1:${port}`;
    Object.assign(env, { BLOB_DIR: blobDir, PORT: String(port), PUBLIC_BASE_URL: url });
    hub = spawnHub('src/main.ts', [], env);
    hubOutput = collect(hub);
    await waitForHttp(`${url}/health`, 90_000);
  }, 120_000);

  afterAll(async () => {
    hub.kill('SIGTERM');
    await exited(hub);
    const mongo = new MongoClient(String(env.MONGO_URL));
    await mongo
      .db(env.MONGO_DB)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
    const pool = new pg.Pool({ connectionString: env.DATABASE_URL });
    await pool.query(`DROP SCHEMA IF EXISTS "${env.PG_SCHEMA}" CASCADE`);
    await pool.end();
    await rm(blobDir, { recursive: true, force: true });
  }, 60_000);

  it('runs every walkthrough block as pasted, top to bottom, each command succeeding', async () => {
    const blocks = walkthroughBlocks(markdown);
    // Every curl must get a 2xx/3xx answer: --fail-with-body turns a 4xx/5xx into a failed command,
    // and errexit/pipefail stop the session at the first failure, naming the README line.
    const script = [
      'set -eEuo pipefail',
      'curl() { command curl --fail-with-body "$@"; }',
      'trap \'echo "walkthrough failed at: $BASH_COMMAND (README.md:$README_LINE)" >&2\' ERR',
      ...blocks.flatMap((block) => [
        `README_LINE=${block.line}`,
        `echo "--- README.md:${block.line} at $SECONDS s"`,
        block.code.replaceAll('http://127.0.0.1:8000', url),
      ]),
      'echo "--- walkthrough complete"',
    ].join('\n');
    const result = await bash(script, {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...env,
    });
    expect(
      result.output,
      `${result.output}\n--- hub output:\n${hubOutput.stdout()}${hubOutput.stderr()}`,
    ).toContain('--- walkthrough complete');
    expect(result.code).toBe(0);
  }, 240_000);

  it('loads the demo data again without adding or changing anything (runtime-hub demo load)', async () => {
    const cli = spawnHub('src/cli.ts', ['demo', 'load'], env);
    const output = collect(cli);
    expect((await exited(cli)).code, output.stderr()).toBe(0);
    // The walkthrough's submission added a seventh biosample; the demo's six are left as they were.
    expect(output.stdout()).toContain('study_set: 0 added, 2 already there');
    expect(output.stdout()).toContain('biosample_set: 0 added, 6 already there');
    expect(output.stdout()).toContain('data_object_set: 0 added, 6 already there');
    expect(output.stdout()).toMatch(/DRS blobs: 0 added, 9 already there/);
    expect(output.stdout()).toMatch(/jobs of workflow test: 0 added, 3 already there/);
  }, 120_000);
});
