import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';

import { LOGGER } from '../logging/logging.module.js';
import { isConnectivityError, runOrRetryInBackground } from '../retry.js';
import { PostgresService } from './postgres.service.js';

/** Applies pending migrations when a hub process boots (the CLI's `migrate` does the same on demand). */
@Injectable()
export class BootMigrations implements OnModuleInit, OnApplicationShutdown {
  private stop: (() => void) | undefined;

  constructor(
    private readonly postgres: PostgresService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const handle = await runOrRetryInBackground(
      'applying PostgreSQL migrations',
      async () => {
        const result = await this.postgres.migrate();
        if (result.applied.length > 0) {
          this.log.info({ applied: result.applied, schema: this.postgres.schema }, 'migrations applied');
        }
      },
      this.log,
      isConnectivityError,
    );
    this.stop = () => handle.stop();
  }

  onApplicationShutdown(): void {
    this.stop?.();
  }
}
