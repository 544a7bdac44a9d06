import { Global, Module } from '@nestjs/common';

import { PidsRepository } from './pids.repository.js';
import { PidsService } from './pids.service.js';

/**
 * The minter for every role: the API mints through it, and the metadata store marks ids registered once
 * documents carry them. It reads schema classes through MINTABLE_CLASSES, which the metadata core binds.
 */
@Global()
@Module({ providers: [PidsRepository, PidsService], exports: [PidsService] })
export class PidsCoreModule {}
