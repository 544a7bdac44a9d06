import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

import { collect, exited, waitForHttp } from '../../test/support/process.js';

export { freePort } from '../../test/support/process.js';

/**
 * Runs TypeScript through SWC. The loader registers itself relative to the working directory, so
 * processes started with it run from the repository root.
 */
export const TYPESCRIPT_LOADER: readonly string[] = ['--import', '@swc-node/register/esm-register'];

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** What the process has printed so far (for diagnosing a failed run); absent for processes not spawned here. */
  output?(): string;
  /** CPU time (user + system) the process has used so far, in seconds; undefined where /proc is missing. */
  cpuSeconds(): Promise<number | undefined>;
  /** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * With two or more CPUs, servers run pinned to the last one and the load generator (this process) to the
 * others, so the server under test and its baseline each get one whole core and never share it with
 * autocannon.
 */
export const SERVER_CPU = availableParallelism() >= 2 ? availableParallelism() - 1 : undefined;

async function run(command: string, args: readonly string[]): Promise<boolean> {
  const child = spawn(command, args, { stdio: 'ignore' });
  return new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

let taskset: Promise<boolean> | undefined;
function hasTaskset(): Promise<boolean> {
  taskset ??= run('taskset', ['--version']);
  return taskset;
}

/**
 * Moves every thread of this process off the servers' CPU. Call once before starting servers; returns a
 * line for the report saying how CPUs were split.
 */
export async function isolateCpus(): Promise<string> {
  if (SERVER_CPU === undefined || !(await hasTaskset())) {
    return 'CPUs not split (one CPU or no taskset): servers share them with the load generator';
  }
  const others = SERVER_CPU === 1 ? '0' : `0-${SERVER_CPU - 1}`;
  if (!(await run('taskset', ['--all-tasks', '--pid', '--cpu-list', others, String(process.pid)]))) {
    return `servers pinned to CPU ${SERVER_CPU}; the load generator could not be moved off it`;
  }
  return `servers pinned to CPU ${SERVER_CPU}, load generator on CPU ${others}`;
}

/**
 * The share of all CPUs that other processes kept busy over `sampleMs`, taken before a benchmark starts
 * its servers: on a shared machine, figures measured next to other work are not worth comparing.
 */
export async function backgroundCpuLoad(sampleMs = 1000): Promise<number> {
  const totals = (): { busy: number; all: number } =>
    cpus().reduce(
      (sum, cpu) => {
        const all = cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.idle + cpu.times.irq;
        return { busy: sum.busy + all - cpu.times.idle, all: sum.all + all };
      },
      { busy: 0, all: 0 },
    );
  const before = totals();
  await sleep(sampleMs);
  const after = totals();
  return after.all > before.all ? (after.busy - before.busy) / (after.all - before.all) : 0;
}

export interface StartNodeOptions {
  /** Arguments to `node`, script first. */
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly url: string;
  /** Polled until it answers 200. */
  readonly readyPath: string;
  readonly label: string;
  readonly startTimeoutMs?: number;
}

/** Starts a Node.js server as its own process and waits until `readyPath` answers 200. */
export async function startNodeServer(options: StartNodeOptions): Promise<ServerProcess> {
  const pin = SERVER_CPU !== undefined && (await hasTaskset());
  const command = pin ? 'taskset' : process.execPath;
  const args = pin
    ? ['--cpu-list', String(SERVER_CPU), process.execPath, ...options.args]
    : [...options.args];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collect(child);
  const early = exited(child).then(({ code, signal }) => {
    throw new Error(
      `${options.label} exited during start-up (code ${code}, signal ${signal}):\n${output.stderr()}${output.stdout()}`,
    );
  });
  // Only a rejection during start-up matters; the exit that stop() causes later must not surface.
  early.catch(() => undefined);
  try {
    await Promise.race([waitForHttp(`${options.url}${options.readyPath}`, options.startTimeoutMs), early]);
    const ready = await fetch(`${options.url}${options.readyPath}`);
    if (ready.status !== 200) {
      throw new Error(
        `${options.label}: ${options.readyPath} answered ${ready.status}: ${await ready.text()}`,
      );
    }
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: options.url,
    pid: child.pid ?? -1,
    output: () => `${output.stderr()}${output.stdout()}`,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      const done = exited(child);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await done;
      clearTimeout(timer);
    },
  };
}

/** Linux reports process CPU time in clock ticks, which are 1/100 s on every supported architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) of process `pid` so far, from /proc; undefined where that is missing. */
export async function cpuSecondsOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) {
    return undefined;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
