import { Module } from '@nestjs/common';

import { MetadataController } from './metadata.controller.js';
import { MetadataService } from './metadata.service.js';
import { QueriesController } from './queries.controller.js';
import { QueriesRepository } from './queries.repository.js';
import { QueriesService } from './queries.service.js';

@Module({
  controllers: [MetadataController, QueriesController],
  providers: [MetadataService, QueriesService, QueriesRepository],
})
export class MetadataModule {}
