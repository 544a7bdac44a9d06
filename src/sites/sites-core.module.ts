import { Global, Module } from '@nestjs/common';

import { SITE_CLIENTS } from '../auth/accounts.js';
import { AccountsBootstrap } from './accounts-bootstrap.js';
import { SitesRepository } from './sites.repository.js';
import { SitesService } from './sites.service.js';

/**
 * Sites and their clients for every role (authentication reads clients through {@link SITE_CLIENTS};
 * the orchestrator's sensors act as the hub's own site), and the boot-time accounts: the hub's site and
 * the bootstrap admin.
 */
@Global()
@Module({
  providers: [
    SitesRepository,
    SitesService,
    { provide: SITE_CLIENTS, useExisting: SitesRepository },
    AccountsBootstrap,
  ],
  exports: [SitesRepository, SitesService, SITE_CLIENTS],
})
export class SitesCoreModule {}
