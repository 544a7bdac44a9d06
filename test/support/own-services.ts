import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { exited } from './process.js';

/**
 * Service instances a fault test owns: started on a loopback port it chooses, killed and replaced at
 * will. Fault tests never touch the shared Redis, PostgreSQL or FerretDB.
 */
export interface OwnService {
  readonly url: string;
  /** Kills the server at once (SIGKILL: no graceful shutdown, like a crash). */
  kill(): Promise<void>;
  /** Starts a server again on the same port (for Redis: empty, nothing persisted). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, open: boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await portOpen(port)) !== open) {
    if (Date.now() > deadline) {
      throw new Error(`${what} on port ${port} did not ${open ? 'open' : 'close'} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A throw-away Redis with no persistence: killed and started again, it comes back empty. */
/** Kills a server this test started (SIGKILL, like a crash) and waits until its port is closed. */
async function killAndWait(child: ChildProcess | undefined, port: number, what: string): Promise<void> {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
  await waitForPort(port, false, what);
}

export async function ownRedis(port: number): Promise<OwnService> {
  if (await portOpen(port)) {
    throw new Error(`port ${port} is already in use; pick another spare port for this test`);
  }
  let child: ChildProcess | undefined;
  const service: OwnService = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      await waitForPort(port, true, 'redis-server');
    },
    async kill() {
      const current = child;
      child = undefined;
      await killAndWait(current, port, 'redis-server');
    },
    async stop() {
      await service.kill();
    },
  };
  await service.start();
  return service;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Runs a PostgreSQL tool as the `postgres` user when this process is root (initdb refuses root). */
function pgTool(tool: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [command, argv] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', `${PG_BIN}/${tool}`, ...args]]
    : [`${PG_BIN}/${tool}`, args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${tool} exited with ${code}: ${stderr.slice(-500)}`)),
    );
  });
}

/** A PostgreSQL cluster of its own (initdb in a temporary directory, trust on loopback). */
export async function ownPostgres(port: number): Promise<OwnService & { cleanup(): Promise<void> }> {
  if (await portOpen(port)) {
    throw new Error(`port ${port} is already in use; pick another spare port for this test`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'rh-own-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    await chown(dir, uid, gid);
  }
  const data = join(dir, 'data');
  await pgTool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const service = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await pgTool('pg_ctl', [
        '-D',
        data,
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
        'start',
      ]);
      await waitForPort(port, true, 'postgres');
    },
    async kill() {
      await pgTool('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      await waitForPort(port, false, 'postgres');
    },
    async stop() {
      await pgTool('pg_ctl', ['-D', data, '-m', 'fast', 'stop']).catch(() => undefined);
    },
    async cleanup() {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}

/** A FerretDB of its own (the binary scripts/setup.sh builds), SQLite data in a temporary directory. */
export async function ownFerretDb(
  port: number,
  debugPort: number,
): Promise<OwnService & { cleanup(): Promise<void> }> {
  if (await portOpen(port)) {
    throw new Error(`port ${port} is already in use; pick another spare port for this test`);
  }
  const binary = fileURLToPath(new URL('../../.tools/bin/ferretdb', import.meta.url));
  const dir = await mkdtemp(join(tmpdir(), 'rh-own-ferretdb-'));
  await mkdir(join(dir, 'sqlite'));
  await mkdir(join(dir, 'state'));
  let child: ChildProcess | undefined;
  const service = {
    url: `mongodb://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        binary,
        [
          '--handler=sqlite',
          `--sqlite-url=file:${join(dir, 'sqlite')}/`,
          `--listen-addr=127.0.0.1:${port}`,
          `--debug-addr=127.0.0.1:${debugPort}`,
          `--state-dir=${join(dir, 'state')}`,
          '--telemetry=disable',
          '--log-level=WARN',
        ],
        { stdio: 'ignore' },
      );
      await waitForPort(port, true, 'ferretdb');
    },
    async kill() {
      const current = child;
      child = undefined;
      await killAndWait(current, port, 'ferretdb');
    },
    async stop() {
      await service.kill();
    },
    async cleanup() {
      await service.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}
