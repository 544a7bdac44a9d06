import { Global, Module } from '@nestjs/common';

import { OrchestratorCoreModule } from '../orchestrator/orchestrator.module.js';
import { ExportRunsService } from './export-runs.service.js';
import { ExportsController } from './exports.controller.js';
import { ExportsService } from './exports.service.js';

/** Exports and imports for every role: the jobs run them in the workers, the CLI in process. */
@Global()
@Module({
  providers: [ExportsService],
  exports: [ExportsService],
})
export class ExportsCoreModule {}

/** The HTTP side: start exports and imports, list exports, the latest one. */
@Module({
  imports: [OrchestratorCoreModule],
  controllers: [ExportsController],
  providers: [ExportRunsService],
})
export class ExportsModule {}
