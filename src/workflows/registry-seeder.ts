import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { isConnectivityError, runOrRetryInBackground } from '../infra/retry.js';
import { loadRegistrySeed } from './registry-seed.js';
import { RegistryService } from './registry.service.js';

/** Upserts src/site/registry.yaml at every start; a broken file stops the boot with its problems listed. */
@Injectable()
export class RegistrySeeder implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopRetry: (() => void) | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: RegistryService,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly mongo: MongoService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const seed = await loadRegistrySeed(this.config.registryPath);
    const handle = await runOrRetryInBackground(
      'seeding the workflow registry',
      async () => {
        await this.mongo.ensureIndexes();
        await this.registry.seed(seed);
      },
      this.log,
      isConnectivityError,
    );
    this.stopRetry = () => handle.stop();
  }

  onApplicationShutdown(): void {
    this.stopRetry?.();
  }
}
