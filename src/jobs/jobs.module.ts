import { Global, Module } from '@nestjs/common';

import { CLAIM_LEDGER } from '../operations/claim-ledger.js';
import { OperationsRepository } from '../operations/operations.repository.js';
import { OperationsService } from '../operations/operations.service.js';
import { RegistryRepository } from '../workflows/registry.repository.js';
import { RegistrySeeder } from '../workflows/registry-seeder.js';
import { RegistryService } from '../workflows/registry.service.js';
import { JobClaimLedger } from './claim-ledger.service.js';
import { HubSiteService } from './hub-site.service.js';
import { JobClaimsStore } from './job-claims.store.js';
import { JobsRepository } from './jobs.repository.js';
import { JobsService } from './jobs.service.js';

/**
 * The job-claim domain for every role: the API serves it over HTTP, and the orchestrator's sensors claim
 * jobs as the hub's own site through the very same services.
 */
@Global()
@Module({
  providers: [
    RegistryRepository,
    RegistryService,
    RegistrySeeder,
    JobsRepository,
    JobClaimsStore,
    JobsService,
    OperationsRepository,
    OperationsService,
    // Operations close and extend claims through this port; the claims themselves are the jobs' own.
    JobClaimLedger,
    { provide: CLAIM_LEDGER, useExisting: JobClaimLedger },
    HubSiteService,
  ],
  exports: [RegistryService, JobsService, OperationsService, JobClaimsStore, HubSiteService],
})
export class JobsCoreModule {}
