import { Module } from '@nestjs/common';

import { PidsController } from './pids.controller.js';
import { PidsService } from './pids.service.js';

@Module({ controllers: [PidsController], providers: [PidsService], exports: [PidsService] })
export class PidsModule {}
