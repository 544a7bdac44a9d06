import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { isConnectivityError, runOrRetryInBackground } from '../infra/retry.js';
import { UsersService } from '../users/users.service.js';
import { SitesService } from './sites.service.js';

/**
 * Creates the hub's own site and, for local runs, the admin named in ADMIN_USERNAME / ADMIN_PASSWORD.
 * Retried in the background while MongoDB is unreachable.
 */
@Injectable()
export class AccountsBootstrap implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopRetry: (() => void) | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly users: UsersService,
    private readonly sites: SitesService,
    private readonly mongo: MongoService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const handle = await runOrRetryInBackground(
      'creating the hub site and bootstrap admin',
      () => this.bootstrap(),
      this.log,
      isConnectivityError,
    );
    this.stopRetry = () => handle.stop();
  }

  onApplicationShutdown(): void {
    this.stopRetry?.();
  }

  private async bootstrap(): Promise<void> {
    // The unique indexes that make these inserts idempotent must exist first, or processes booting
    // together each insert the same admin.
    await this.mongo.ensureIndexes();
    await this.sites.ensureHubSite(this.config.auth.hubSiteId);
    const admin = this.config.auth.bootstrapAdmin;
    if (
      admin &&
      (await this.users.ensure({ username: admin.username, password: admin.password, is_admin: true }))
    ) {
      this.log.info({ username: admin.username }, 'created the admin user from ADMIN_USERNAME');
    }
  }
}
