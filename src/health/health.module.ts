import { Module } from '@nestjs/common';

import { DrainState } from './drain-state.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

@Module({ controllers: [HealthController], providers: [HealthService, DrainState], exports: [DrainState] })
export class HealthModule {}
