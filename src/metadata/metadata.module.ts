import { Module } from '@nestjs/common';

import { FindController } from './find.controller.js';
import { FindService } from './find.service.js';
import { MetadataController } from './metadata.controller.js';
import { MetadataService } from './metadata.service.js';
import { QueriesController } from './queries.controller.js';
import { QueriesRepository } from './queries.repository.js';
import { QueriesService } from './queries.service.js';
import { QueryWritesService } from './query-writes.service.js';

@Module({
  controllers: [MetadataController, QueriesController, FindController],
  providers: [MetadataService, QueriesService, QueryWritesService, QueriesRepository, FindService],
  exports: [MetadataService, FindService, QueriesService],
})
export class MetadataModule {}
