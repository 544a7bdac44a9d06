import { Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { Logger } from 'pino';

import { AuthCoreModule } from './auth/auth-core.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ChangesheetsCoreModule, ChangesheetsModule } from './changesheets/changesheets.module.js';
import { CommonModule } from './common/common.module.js';
import { DemoModule } from './demo/demo.module.js';
import { DrsModule } from './drs/drs.module.js';
import { ExportsCoreModule, ExportsModule } from './exports/exports.module.js';
import { ObjectsCoreModule } from './drs/objects-core.module.js';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { createValidationPipe } from './common/http/validation.pipe.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { HealthModule } from './health/health.module.js';
import { HubOrchestratorModule } from './hub/hub-orchestrator.module.js';
import { InfraModule } from './infra/infra.module.js';
import { LoggingModule } from './infra/logging/logging.module.js';
import { MetricsController } from './infra/metrics/metrics.controller.js';
import { BootMigrations } from './infra/postgres/boot-migrations.js';
import { JobsApiModule } from './jobs/jobs-api.module.js';
import { JobsCoreModule } from './jobs/jobs.module.js';
import { MetaModule } from './meta/meta.module.js';
import { MetadataCoreModule } from './metadata/metadata-core.module.js';
import { PidsCoreModule } from './pids/pids-core.module.js';
import { MetadataModule } from './metadata/metadata.module.js';
import {
  OrchestratorApiModule,
  OrchestratorWorkerModule,
  WorkArrivedModule,
} from './orchestrator/orchestrator.module.js';
import { NmdcModule } from './nmdc/nmdc.module.js';
import { PidsModule } from './pids/pids.module.js';
import { SitesModule } from './sites/sites.module.js';
import { UsersModule } from './users/users.module.js';
import { SitesCoreModule } from './sites/sites-core.module.js';
import { UsersCoreModule } from './users/users-core.module.js';

/** Feature modules that serve the HTTP API; loaded by the `api` and `all` roles. */
const API_MODULES: NonNullable<ModuleMetadata['imports']> = [
  MetaModule,
  AuthModule,
  UsersModule,
  SitesModule,
  JobsApiModule,
  OrchestratorApiModule,
  MetadataModule,
  ChangesheetsModule,
  PidsModule,
  DrsModule,
  ExportsModule,
  NmdcModule,
];

/** Modules that execute work (orchestrator daemon and run workers); loaded by the `worker` and `all` roles. */
const WORKER_MODULES: NonNullable<ModuleMetadata['imports']> = [OrchestratorWorkerModule];

@Module({})
export class AppModule {
  static forRoot(
    config: AppConfig,
    logger: Logger,
    extraModules: NonNullable<ModuleMetadata['imports']> = [],
  ): DynamicModule {
    const servesApi = config.role === 'all' || config.role === 'api';
    const runsWork = config.role === 'all' || config.role === 'worker';
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        InfraModule,
        CommonModule,
        AuthCoreModule,
        UsersCoreModule,
        SitesCoreModule,
        JobsCoreModule,
        MetadataCoreModule,
        PidsCoreModule,
        ObjectsCoreModule,
        ChangesheetsCoreModule,
        ExportsCoreModule,
        WorkArrivedModule,
        HubOrchestratorModule,
        HealthModule,
        DemoModule,
        ...(servesApi ? API_MODULES : []),
        ...(runsWork ? WORKER_MODULES : []),
        ...extraModules,
      ],
      controllers: [MetricsController],
      providers: [
        BootMigrations,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
