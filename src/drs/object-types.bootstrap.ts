import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';

import { LOGGER } from '../infra/logging/logging.module.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { isConnectivityError, runOrRetryInBackground } from '../infra/retry.js';
import { ObjectTypesRepository } from './object-types.repository.js';
import { OBJECT_TYPE_SEED } from './object-types.seed.js';

/** Seeds the hub's own object types at boot, retrying in the background while MongoDB is unreachable. */
@Injectable()
export class ObjectTypesBootstrap implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopRetry: (() => void) | undefined;

  constructor(
    private readonly types: ObjectTypesRepository,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly mongo: MongoService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const handle = await runOrRetryInBackground(
      'seeding object types',
      async () => {
        await this.mongo.ensureIndexes();
        await this.types.upsertMany(OBJECT_TYPE_SEED);
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
