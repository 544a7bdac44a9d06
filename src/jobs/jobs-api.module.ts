import { Module } from '@nestjs/common';

import { OperationsController } from '../operations/operations.controller.js';
import { RegistryController } from '../workflows/registry.controller.js';
import { JobsController } from './jobs.controller.js';

@Module({ controllers: [RegistryController, JobsController, OperationsController] })
export class JobsApiModule {}
