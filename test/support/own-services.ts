import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

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
      if (current && current.exitCode === null && current.signalCode === null) {
        current.kill('SIGKILL');
        await exited(current);
      }
      await waitForPort(port, false, 'redis-server');
    },
    async stop() {
      await service.kill();
    },
  };
  await service.start();
  return service;
}
