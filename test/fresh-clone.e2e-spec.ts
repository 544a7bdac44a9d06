import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  access,
  constants,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TEST_ENV } from './support/env.js';
import { ROOT } from './support/process.js';

const run = promisify(execFile);

/** Runs a command in the scratch clone; resolves with its exit code and output (never rejects). */
function sh(
  cwd: string,
  command: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A clone of this repository as it is on disk (committed or not), so the test exercises the scripts
 * being changed: `git clone`, then the working tree's changes committed on top. node_modules is linked,
 * as installing it again would take a minute.
 */
async function scratchClone(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rh-clone-'));
  const git = (cwd: string, ...args: string[]) => run('git', args, { cwd, maxBuffer: 1 << 24 });
  await git(ROOT, 'clone', '-q', ROOT, dir);
  const changed = (await git(ROOT, 'ls-files', '-z', '-m', '-o', '--exclude-standard')).stdout.split('\0');
  const deleted = new Set((await git(ROOT, 'ls-files', '-z', '-d')).stdout.split('\0').filter(Boolean));
  for (const path of changed.filter(Boolean)) {
    if (deleted.has(path)) {
      continue;
    }
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await copyFile(join(ROOT, path), join(dir, path));
  }
  for (const path of deleted) {
    await rm(join(dir, path), { force: true });
  }
  await git(dir, 'add', '-A');
  await git(
    dir,
    '-c',
    'user.name=test',
    '-c',
    'user.email=test@example.org',
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    'work in progress',
  );
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

describe('a fresh clone, set up as the README says', () => {
  const database = `rh_clone_${randomBytes(4).toString('hex')}`;
  const databaseUrl = `${TEST_ENV.DATABASE_URL.replace(/\/[^/]*$/, '')}/${database}`;
  // What a newcomer's shell has: no hub settings at all beyond where this suite's services listen.
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? homedir(),
    MONGO_URL: TEST_ENV.MONGO_URL,
    REDIS_URL: TEST_ENV.REDIS_URL,
  };
  let dir: string;

  beforeAll(async () => {
    dir = await scratchClone();
  }, 60_000);

  afterAll(async () => {
    const url = new URL(TEST_ENV.DATABASE_URL);
    url.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}"`);
    await admin.end();
    // npx keeps a link to the clone it ran a bin from; remove ours.
    const npxCache = join(homedir(), '.npm', '_npx');
    for (const entry of await readdir(npxCache).catch(() => [])) {
      const manifest = await readFile(join(npxCache, entry, 'package.json'), 'utf8').catch(() => '');
      if (dir && manifest.includes(dir)) {
        await rm(join(npxCache, entry), { recursive: true, force: true });
      }
    }
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('sets up with a copy of .env.example as .env, reading its values as the hub does', async () => {
    const example = await readFile(join(dir, '.env.example'), 'utf8');
    // The copy as shipped (values with spaces and `*`), pointed at a database of its own so the test
    // can see that set-up honoured the file.
    expect(example).toMatch(/^EXPORT_METADATA_CRON=0 3 \* \* \*$/m);
    expect(example).toMatch(/^ORGANIZATION_NAME=Runtime Hub$/m);
    await writeFile(join(dir, '.env'), example.replace(/^DATABASE_URL=.*$/m, `DATABASE_URL=${databaseUrl}`));

    const setup = await sh(dir, 'bash scripts/setup.sh', env);
    expect(setup.stderr).not.toMatch(/command not found/);
    expect(setup.code, setup.stdout + setup.stderr).toBe(0);

    const url = new URL(TEST_ENV.DATABASE_URL);
    url.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    await admin.end();
    expect(rowCount).toBe(1);
  }, 120_000);

  it('leaves the working tree clean after set-up', async () => {
    const status = await run('git', ['status', '--porcelain'], { cwd: dir });
    expect(status.stdout).toBe('');
  });

  it('builds a runtime-hub bin that runs as a user calls it, after every build', async () => {
    // A user who ran `npx runtime-hub` after an earlier build has npx's link to dist/cli.js; a stand-in
    // for that earlier build lets npx make the link without compiling twice.
    await mkdir(join(dir, 'dist'), { recursive: true });
    await writeFile(join(dir, 'dist/cli.js'), '#!/usr/bin/env node\n', { mode: 0o644 });
    const earlier = await sh(dir, 'npx runtime-hub --help', env);
    expect(earlier.code, earlier.stderr).toBe(0);
    // The build `npm start` runs: it compiles only when the sources changed.
    const buildIfChanged = 'source scripts/lib.sh && build_if_changed';
    const build = await sh(dir, buildIfChanged, env);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    expect(build.stdout).toMatch(/compiling TypeScript to dist\/ \(usually .*\)/);
    expect(build.stdout).toMatch(/compiling TypeScript to dist\/: done in \d+s/);

    await access(join(dir, 'dist/cli.js'), constants.X_OK);
    expect((await stat(join(dir, 'dist/cli.js'))).mode & 0o111).toBe(0o111);
    const direct = await sh(dir, './dist/cli.js --help', env);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout).toContain('Usage: runtime-hub');
    const npx = await sh(dir, 'npx runtime-hub --help', env);
    expect(npx.stderr).not.toMatch(/Permission denied/);
    expect(npx.code, npx.stderr).toBe(0);
    expect(npx.stdout).toContain('demo');

    const builtAt = (await stat(join(dir, 'dist/main.js'))).mtimeMs;
    const again = await sh(dir, buildIfChanged, env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('dist/ is up to date with the sources; not rebuilding');
    expect((await stat(join(dir, 'dist/main.js'))).mtimeMs).toBe(builtAt);

    const status = await run('git', ['status', '--porcelain'], { cwd: dir });
    expect(status.stdout).toBe('');
  }, 180_000);
});
