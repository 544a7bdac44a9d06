import { Module } from '@nestjs/common';

import { DrsModule } from '../drs/drs.module.js';
import { MetadataModule } from '../metadata/metadata.module.js';
import { PidsModule } from '../pids/pids.module.js';
import { NmdcRoutesController } from './nmdc-routes.controller.js';
import { NmdcSchemaController } from './nmdc-schema.controller.js';
import { NmdcService } from './nmdc.service.js';
import { ClassHierarchy } from './class-hierarchy.js';
import { CLASS_HIERARCHY, LinkedInstancesService } from './linked-instances.service.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';

/**
 * Routes that exist for NMDC's own clients (`nmdc_automation`'s NmdcRuntimeApi, nmdc-runtime's
 * RuntimeApiSiteClient and RuntimeApiUserClient), answered by the hub's services in NMDC's shapes.
 */
@Module({
  imports: [DrsModule, MetadataModule, PidsModule],
  controllers: [NmdcSchemaController, NmdcRoutesController],
  providers: [
    NmdcService,
    LinkedInstancesService,
    {
      provide: CLASS_HIERARCHY,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): ClassHierarchy =>
        config.metadata.classHierarchyPath
          ? ClassHierarchy.fromFile(config.metadata.classHierarchyPath)
          : new ClassHierarchy(),
    },
  ],
})
export class NmdcModule {}
