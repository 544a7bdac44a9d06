/**
 * Authenticated GET /users/me (bearer JWT verified through passport, principal resolved) against the
 * public GET /version on the same hub, 64 connections. Target: at least 0.85× — verifying a token must
 * not dominate a request.
 */
import { BENCH_ADMIN_ENV, fetchToken } from '../lib/auth.js';
import { startHub } from '../lib/hub.js';
import { measureAlternating } from '../lib/load.js';
import { backgroundCpuLoad, isolateCpus } from '../lib/processes.js';
import { compare, printTable, printVerdict, reportResults, runBenchmark } from '../lib/report.js';
import { benchSettings } from '../lib/settings.js';

const NAME = 'auth';
const CONNECTIONS = 64;
const TARGET = 0.85;

async function main(): Promise<void> {
  const settings = benchSettings({ durationSeconds: 10, warmupSeconds: 3, rounds: 2 });
  const cpus = await isolateCpus();
  const background = await backgroundCpuLoad();
  const hub = await startHub({ env: BENCH_ADMIN_ENV });
  try {
    const token = await fetchToken(hub.url);
    const headers = { authorization: `Bearer ${token}` };
    const me = await fetch(`${hub.url}/users/me`, { headers });
    if (me.status !== 200) {
      throw new Error(`GET /users/me answered ${me.status}`);
    }

    console.log(
      `bench ${NAME}: GET /users/me (bearer) vs GET /version (public), ${CONNECTIONS} connections; ${cpus}`,
    );
    if (background > 0.1) {
      console.log(
        `warning: other processes kept ${Math.round(background * 100)}% of the CPUs busy; figures are unreliable`,
      );
    }
    const [publicRoute, authenticated] = await measureAlternating(
      [
        { label: 'GET /version (public)', url: `${hub.url}/version`, server: hub },
        { label: 'GET /users/me (bearer)', url: `${hub.url}/users/me`, server: hub, headers },
      ],
      { connections: CONNECTIONS, ...settings },
    );
    console.log('');
    printTable([
      { label: publicRoute!.label, result: publicRoute!.total },
      { label: authenticated!.label, result: authenticated!.total },
    ]);
    console.log('');
    const verdict = compare(authenticated!.total, publicRoute!.total, TARGET);
    printVerdict('authenticated / public throughput', verdict);
    await reportResults(
      NAME,
      {
        connections: CONNECTIONS,
        ...settings,
        cpus,
        backgroundCpuLoad: background,
        publicRoute,
        authenticated,
        ...verdict,
      },
      verdict.pass,
    );
  } finally {
    await hub.stop();
  }
}

runBenchmark(NAME, main);
