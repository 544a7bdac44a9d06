import { readdir, readFile } from 'node:fs/promises';

import { cpuSecondsOf } from './processes.js';

/**
 * Where the CPU went while a benchmark measured: the processes it started, the PostgreSQL backends
 * serving them, PostgreSQL's own server processes, Redis, and whatever else ran on the machine. A
 * server pinned to one CPU that does not keep that CPU busy is waiting on the others, and this says
 * which party kept them busy.
 */

/** One party's processes: what to read, given the PostgreSQL processes found at the time of reading. */
export interface Party {
  readonly name: string;
  readonly pids: (postgres: readonly PostgresProcess[]) => Promise<readonly number[]>;
}

export interface PostgresProcess {
  readonly pid: number;
  /** What PostgreSQL shows in its process title: `postgres: 15/main: walwriter`, or a backend's user, database, client and state. */
  readonly title: string;
}

/** Busy and total CPU time of the whole machine (all CPUs), in seconds. */
interface MachineTimes {
  readonly busy: number;
  readonly all: number;
}

/** Linux reports CPU time in clock ticks of 1/100 s on every supported architecture. */
const TICKS_PER_SECOND = 100;

async function machineTimes(): Promise<MachineTimes | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal guest guest_nice; guests are inside user and nice.
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
    return { busy: busy / TICKS_PER_SECOND, all: (busy + (idle ?? 0) + (iowait ?? 0)) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** Every process whose command is `postgres`, with its title (empty where /proc is missing). */
export async function postgresProcesses(): Promise<PostgresProcess[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const found = await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry): Promise<PostgresProcess | undefined> => {
        try {
          const comm = (await readFile(`/proc/${entry}/comm`, 'utf8')).trim();
          if (comm !== 'postgres') {
            return undefined;
          }
          const title = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
          return { pid: Number(entry), title };
        } catch {
          // The process ended while the directory was read.
          return undefined;
        }
      }),
  );
  return found.filter((p): p is PostgresProcess => p !== undefined);
}

/**
 * A backend's title names its client (`127.0.0.1(53412)` or `[local]`); the postmaster's and the
 * server processes' (WAL writer, checkpointer, background writer, autovacuum launcher) do not.
 */
export function isServerProcess(process: PostgresProcess): boolean {
  return !/\(\d+\)|\[local\]/.test(process.title);
}

export interface PartyCpu {
  readonly name: string;
  readonly cpuSeconds: number;
}

export interface CpuBreakdown {
  readonly seconds: number;
  readonly parties: readonly PartyCpu[];
  /** Busy CPU time of the machine not accounted for by any party (other work on a shared machine). */
  readonly elsewhereCpuSeconds?: number;
  /** CPU the machine had over the window (CPUs × seconds). */
  readonly capacityCpuSeconds?: number;
}

interface Reading {
  readonly at: number;
  readonly machine: MachineTimes | undefined;
  /** CPU seconds by party, then by pid. */
  readonly parties: ReadonlyMap<string, ReadonlyMap<number, number>>;
}

async function read(parties: readonly Party[]): Promise<Reading> {
  const postgres = await postgresProcesses();
  const byParty = new Map<string, Map<number, number>>();
  const seen = new Set<number>();
  for (const party of parties) {
    const cpu = new Map<number, number>();
    // A process counted by an earlier party (its backends, say) is not counted again by a catch-all.
    const pids = (await party.pids(postgres)).filter((pid) => !seen.has(pid));
    for (const pid of pids) {
      seen.add(pid);
      const seconds = await cpuSecondsOf(pid);
      if (seconds !== undefined) {
        cpu.set(pid, seconds);
      }
    }
    byParty.set(party.name, cpu);
  }
  return { at: performance.now(), machine: await machineTimes(), parties: byParty };
}

/**
 * Reads every party's CPU now; `finish()` reads again and returns what each used in between. A process
 * that appeared in between counts from zero (a new backend's CPU is all since it started); one that
 * ended in between is lost, as its time can no longer be read.
 */
export async function startCpuBreakdown(
  parties: readonly Party[],
): Promise<{ finish: () => Promise<CpuBreakdown> }> {
  const before = await read(parties);
  return {
    async finish() {
      const after = await read(parties);
      const used = parties.map((party): PartyCpu => {
        const start = before.parties.get(party.name) ?? new Map<number, number>();
        let cpuSeconds = 0;
        for (const [pid, seconds] of after.parties.get(party.name) ?? []) {
          cpuSeconds += seconds - (start.get(pid) ?? 0);
        }
        return { name: party.name, cpuSeconds };
      });
      const accounted = used.reduce((sum, party) => sum + party.cpuSeconds, 0);
      const machine =
        before.machine && after.machine
          ? {
              elsewhereCpuSeconds: Math.max(0, after.machine.busy - before.machine.busy - accounted),
              capacityCpuSeconds: after.machine.all - before.machine.all,
            }
          : {};
      return { seconds: (after.at - before.at) / 1000, parties: used, ...machine };
    },
  };
}

/** The lines of a breakdown, as milliseconds of CPU per item (run or job) and share of the machine. */
export function describeBreakdown(breakdown: CpuBreakdown, items: number, indent = '    '): string[] {
  const perItem = (cpuSeconds: number): string => `${((cpuSeconds * 1000) / items).toFixed(3)} ms`;
  const width = Math.max(...breakdown.parties.map((p) => p.name.length), 'elsewhere on the machine'.length);
  const lines = breakdown.parties.map(
    (party) =>
      `${indent}${party.name.padEnd(width)}  ${perItem(party.cpuSeconds).padStart(9)}  (${(party.cpuSeconds / breakdown.seconds).toFixed(2)} CPUs)`,
  );
  if (breakdown.elsewhereCpuSeconds !== undefined) {
    lines.push(
      `${indent}${'elsewhere on the machine'.padEnd(width)}  ${perItem(breakdown.elsewhereCpuSeconds).padStart(9)}  (${(breakdown.elsewhereCpuSeconds / breakdown.seconds).toFixed(2)} CPUs)`,
    );
  }
  return lines;
}

/** The pid of the Redis server at `redis` (from INFO), undefined when it does not say. */
export async function redisServerPid(info: () => Promise<string>): Promise<number | undefined> {
  const match = /^process_id:(\d+)/m.exec(await info());
  return match ? Number(match[1]) : undefined;
}
