import 'reflect-metadata';

import { setFlagsFromString } from 'node:v8';

import { createApp } from './app.factory.js';
import { ConfigError } from './config/app-config.js';
import { loadConfigFromEnvironment } from './config/load-env.js';
import { DrainState } from './health/drain-state.js';

/**
 * Streaming blob bytes allocates a socket buffer per 64 KiB read. V8 counts those against the old
 * generation's limit, which it sets only a little above the live heap once collections have been
 * frequent (after a few large uploads, say): each further download then ran a full mark-compact of the
 * hub's ~60 MB heap every few megabytes, and spent more CPU collecting than moving the bytes (19-29
 * mark-compacts for 3 x 128 MiB, against 5-6 with the limit at twice the live heap). Growing the limit
 * by at least 100% keeps those collections rare at the price of a heap that may grow to twice its live
 * size between them. An operator's own --heap-growing-percent wins.
 */
const HEAP_GROWING_PERCENT = 100;
if (!process.execArgv.some((flag) => flag.startsWith('--heap-growing-percent'))) {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

async function main(): Promise<void> {
  const config = loadConfigFromEnvironment();
  const app = await createApp(config);
  const log = app.getHttpAdapter().getInstance().log;

  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) {
      return;
    }
    closing = true;
    const forced = setTimeout(() => {
      log.error(`shutdown took longer than ${config.http.shutdownTimeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, config.http.shutdownTimeoutMs);
    forced.unref();
    // SIGTERM is how orchestrators and rolling restarts stop a process: readiness turns 503 first and
    // requests keep being served for the drain period, so no request meets a closed port. An operator's
    // Ctrl-C (SIGINT) skips the wait.
    const drainMs = signal === 'SIGTERM' && config.role !== 'worker' ? config.http.shutdownDrainMs : 0;
    app.get(DrainState).start();
    log.info({ signal, drainMs }, 'shutting down: draining, then closing HTTP, queues and pools');
    new Promise((resolve) => setTimeout(resolve, drainMs))
      .then(() => app.close())
      .then(
        () => {
          log.info('shutdown complete');
          process.exit(0);
        },
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  await app.listen({ port: config.http.port, host: config.http.host });
  log.info(
    { url: `http://${config.http.host}:${config.http.port}` },
    config.role === 'worker'
      ? 'worker started (health on /health)'
      : `hub listening; docs at ${config.http.publicBaseUrl}/redoc`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `runtime-hub failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
