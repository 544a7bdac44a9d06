import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ROOT } from './support/process.js';

function bash(
  script: string,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], {
      cwd: options.cwd ?? ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the local scripts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rh-scripts-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('read .env with dotenv, as the hub does: spaces, * and # survive, the environment wins', async () => {
    const file = join(dir, 'dotenv');
    await writeFile(
      file,
      [
        'EXPORT_METADATA_CRON=0 3 * * *',
        'ORGANIZATION_NAME=Runtime Hub',
        `QUOTED="it's # not a comment"`,
        'COMMENTED=value # a comment',
        'FROM_ENV=from the file',
        '',
      ].join('\n'),
    );
    const result = await bash(
      `source scripts/lib.sh && load_dotenv ${file} && printf '%s|' "$EXPORT_METADATA_CRON" "$ORGANIZATION_NAME" "$QUOTED" "$COMMENTED" "$FROM_ENV"`,
      { env: { FROM_ENV: 'from the environment' } },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe("0 3 * * *|Runtime Hub|it's # not a comment|value|from the environment|");
  });

  it('say what a long step does and how long it usually takes, and show its output only when it fails', async () => {
    const log = join(dir, 'step.log');
    const ok = await bash(
      `source scripts/lib.sh && run_step "doing a thing" "about 2 s" ${log} bash -c 'echo hidden; sleep 1'`,
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('[runtime-hub] doing a thing (usually about 2 s)');
    expect(ok.stdout).toMatch(/\[runtime-hub\] doing a thing: done in \d+s/);
    expect(ok.stdout + ok.stderr).not.toContain('hidden');

    const failed = await bash(
      `source scripts/lib.sh && run_step "breaking" "a second" ${log} bash -c 'echo boom >&2; exit 3'`,
    );
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain('boom');
    expect(failed.stderr).toMatch(/breaking failed after \d+s/);
  });

  describe("set-up's choice of FerretDB storage", () => {
    const storage = (env: Record<string, string> = {}) =>
      bash('source scripts/setup.sh && ferretdb_storage_args', {
        env: { RUNTIME_HUB_DATA_DIR: dir, ...env },
      });

    it('is SQLite under the data directory unless FERRETDB_HANDLER says otherwise', async () => {
      const result = await storage();
      expect(result.stderr).toBe('');
      expect(result.stdout.split('\n')).toEqual([
        '--handler=sqlite',
        `--sqlite-url=file:${dir}/ferretdb/sqlite/`,
        '',
      ]);
    });

    it('sizes the PostgreSQL pool above what the hub processes can hold, when the URL does not', async () => {
      const defaults = await storage({ FERRETDB_HANDLER: 'postgresql' });
      expect(defaults.stderr).toBe('');
      // 4 processes × (MONGO_POOL_MAX 50 + METADATA_OPEN_CURSORS_MAX 64) + 1
      expect(defaults.stdout.split('\n')).toEqual([
        '--handler=postgresql',
        '--postgresql-url=postgres://postgres@127.0.0.1:5433/ferretdb?pool_max_conns=457',
        '',
      ]);

      const sized = await storage({
        FERRETDB_HANDLER: 'postgresql',
        FERRETDB_POSTGRESQL_URL: 'postgres://postgres@127.0.0.1:31300/docs?sslmode=disable',
        FERRETDB_CLIENT_PROCESSES: '2',
        MONGO_POOL_MAX: '8',
        METADATA_OPEN_CURSORS_MAX: '0',
      });
      expect(sized.stdout).toContain(
        '--postgresql-url=postgres://postgres@127.0.0.1:31300/docs?sslmode=disable&pool_max_conns=17\n',
      );
    });

    it('refuses a pool one hub process could take whole, and an unknown handler', async () => {
      const small = await storage({
        FERRETDB_HANDLER: 'postgresql',
        FERRETDB_POSTGRESQL_URL: 'postgres://postgres@127.0.0.1:5433/ferretdb?pool_max_conns=50',
      });
      expect(small.code).not.toBe(0);
      expect(small.stderr).toContain('pool_max_conns=50, but one hub process can hold 114 connections');

      const unknown = await storage({ FERRETDB_HANDLER: 'mysql' });
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain("FERRETDB_HANDLER must be sqlite or postgresql, not 'mysql'");
    });
  });

  describe('.ci/run', () => {
    let repo: string;
    const fakeNpm = (body: string) =>
      writeFile(join(repo, 'bin', 'npm'), `#!/usr/bin/env bash\n${body}\n`).then(() =>
        chmod(join(repo, 'bin', 'npm'), 0o755),
      );
    const ci = () =>
      bash('.ci/run', { cwd: repo, env: { PATH: `${join(repo, 'bin')}:${process.env.PATH ?? ''}` } });

    beforeAll(async () => {
      repo = join(dir, 'repo');
      await mkdir(join(repo, '.ci'), { recursive: true });
      await mkdir(join(repo, 'bin'));
      await bash(
        `cp ${join(ROOT, '.ci/run')} .ci/run && printf 'bin/\\n' > .gitignore && git init -q && git add -A && git -c user.name=t -c user.email=t@example.org commit -qm init`,
        { cwd: repo },
      );
    });

    it('prints the summary once, as the last line, after whatever npm adds', async () => {
      await fakeNpm('echo "tests running"; echo "3 passed, 0 failed"; echo "npm notice something"');
      const result = await ci();
      expect(result.code).toBe(0);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines.filter((line) => line === '3 passed, 0 failed')).toHaveLength(1);
      expect(lines.at(-1)).toBe('3 passed, 0 failed');
      expect(result.stdout).toContain('npm notice something');
    });

    it('fails when the clone is not clean afterwards, saying which files', async () => {
      await fakeNpm('touch stray-file; echo "3 passed, 0 failed, 1 skipped"');
      const result = await ci();
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('?? stray-file');
      expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('3 passed, 1 failed, 1 skipped');
    });
  });
});
