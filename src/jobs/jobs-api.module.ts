import { Module } from '@nestjs/common';

import { OperationsController } from '../operations/operations.controller.js';
import { RegistryController } from '../workflows/registry.controller.js';
import { SiteJobsController } from './jobs.controller.js';

@Module({ controllers: [RegistryController, SiteJobsController, OperationsController] })
export class JobsApiModule {}
