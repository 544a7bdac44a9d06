import { Module } from '@nestjs/common';

import { DrsModule } from '../drs/drs.module.js';
import { MetadataModule } from '../metadata/metadata.module.js';
import { PidsModule } from '../pids/pids.module.js';
import { NmdcRoutesController } from './nmdc-routes.controller.js';
import { NmdcSchemaController } from './nmdc-schema.controller.js';
import { NmdcService } from './nmdc.service.js';

/**
 * Routes that exist for NMDC's own clients (`nmdc_automation`'s NmdcRuntimeApi, nmdc-runtime's
 * RuntimeApiSiteClient and RuntimeApiUserClient), answered by the hub's services in NMDC's shapes.
 */
@Module({
  imports: [DrsModule, MetadataModule, PidsModule],
  controllers: [NmdcSchemaController, NmdcRoutesController],
  providers: [NmdcService],
})
export class NmdcModule {}
