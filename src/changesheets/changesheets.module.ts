import { Module } from '@nestjs/common';

import { OrchestratorCoreModule } from '../orchestrator/orchestrator.module.js';
import { ChangesheetsController } from './changesheets.controller.js';
import { ChangesheetsRepository } from './changesheets.repository.js';
import { ChangesheetIntake } from './changesheet-intake.service.js';
import { ChangesheetStatusView } from './changesheet-status.service.js';
import { ChangesheetWriter } from './changesheet-writer.service.js';

/**
 * Changesheets for every role: the API validates, submits, reports and reverts; the worker's
 * apply_changesheet job applies through the same service (bound in hub/host-values.ts).
 */
@Module({
  imports: [OrchestratorCoreModule],
  providers: [ChangesheetsRepository, ChangesheetIntake, ChangesheetStatusView, ChangesheetWriter],
  exports: [ChangesheetIntake, ChangesheetStatusView, ChangesheetWriter],
})
export class ChangesheetsCoreModule {}

@Module({
  imports: [ChangesheetsCoreModule],
  controllers: [ChangesheetsController],
})
export class ChangesheetsModule {}
