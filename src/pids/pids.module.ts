import { Module } from '@nestjs/common';

import { PidsController } from './pids.controller.js';

/** The HTTP side of the minter; PidsCoreModule provides the service. */
@Module({ controllers: [PidsController] })
export class PidsModule {}
