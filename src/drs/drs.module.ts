import { Module } from '@nestjs/common';

import { BlobsController } from './blobs.controller.js';
import { BlobsService } from './blobs.service.js';
import { DrsController } from './drs.controller.js';
import { DrsService } from './drs.service.js';
import { ObjectsController } from './objects.controller.js';

/** The HTTP side: GA4GH DRS under /ga4gh/drs/v1, the object registry, uploads and signed downloads. */
@Module({
  controllers: [DrsController, ObjectsController, BlobsController],
  providers: [DrsService, BlobsService],
  exports: [DrsService],
})
export class DrsModule {}
