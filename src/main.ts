import 'reflect-metadata';

import { createApp } from './app.factory.js';
import { ConfigError } from './config/app-config.js';
import { loadConfigFromEnvironment } from './config/load-env.js';
import { DrainState } from './health/drain-state.js';

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
