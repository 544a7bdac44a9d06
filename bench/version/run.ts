/**
 * GET /version on the hub against a bare node:http server answering the same JSON, both started here,
 * each in its own process, at 64 connections. Target: the hub reaches at least 0.6× the baseline's req/s.
 */
import { startBareJsonServer } from '../lib/baseline.js';
import { startHub } from '../lib/hub.js';
import { measureAlternating } from '../lib/load.js';
import { backgroundCpuLoad, isolateCpus, type ServerProcess } from '../lib/processes.js';
import { compare, printTable, printVerdict, reportResults, runBenchmark } from '../lib/report.js';
import { benchSettings } from '../lib/settings.js';

const NAME = 'version';
const CONNECTIONS = 64;
const TARGET = 0.6;
/** Share of the CPUs other work may use before the figures are flagged as unreliable. */
const BUSY_MACHINE = 0.1;

async function main(): Promise<void> {
  const settings = benchSettings({ durationSeconds: 10, warmupSeconds: 3, rounds: 2 });
  const cpus = await isolateCpus();
  const background = await backgroundCpuLoad();
  const running: ServerProcess[] = [];
  try {
    const hub = await startHub();
    running.push(hub);
    const hubResponse = await fetch(`${hub.url}/version`);
    const body = await hubResponse.text();
    if (hubResponse.status !== 200) {
      throw new Error(`the hub answered GET /version with ${hubResponse.status}: ${body}`);
    }
    const bare = await startBareJsonServer(body);
    running.push(bare);
    const bareBody = await (await fetch(bare.url)).text();
    if (bareBody !== body) {
      throw new Error(`the baseline answers ${bareBody}, not the hub's ${body}`);
    }

    console.log(
      `bench ${NAME}: GET /version, ${CONNECTIONS} connections, ${settings.durationSeconds} s per server ` +
        `in ${settings.rounds} alternating rounds after ${settings.warmupSeconds} s of warm-up`,
    );
    console.log(`hub: ${hub.entry}, APP_ROLE=api, NODE_ENV=production, LOG_LEVEL=warn; ${cpus}`);
    console.log(`body: ${body}`);
    if (background > BUSY_MACHINE) {
      console.log(
        `warning: other processes kept ${Math.round(background * 100)}% of the CPUs busy before the run; ` +
          'these figures are unreliable, run again on a quiet machine',
      );
    }
    const [baseline, measured] = await measureAlternating(
      [
        { label: 'bare node:http', url: bare.url, server: bare },
        { label: 'runtime-hub', url: `${hub.url}/version`, server: hub },
      ],
      { connections: CONNECTIONS, ...settings },
    );

    console.log('');
    printTable([
      { label: baseline!.label, result: baseline!.total },
      { label: measured!.label, result: measured!.total },
    ]);
    console.log('');
    const verdict = compare(measured!.total, baseline!.total, TARGET);
    printVerdict('hub / bare throughput', verdict);
    await reportResults(
      NAME,
      {
        request: 'GET /version',
        connections: CONNECTIONS,
        ...settings,
        hubEntry: hub.entry,
        cpus,
        backgroundCpuLoad: background,
        baseline,
        hub: measured,
        ...verdict,
      },
      verdict.pass,
    );
  } finally {
    await Promise.allSettled(running.map((server) => server.stop()));
  }
}

runBenchmark(NAME, main);
