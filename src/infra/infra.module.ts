import { Module } from '@nestjs/common';

import { BlobModule } from './blob/blob.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { MongoModule } from './mongo/mongo.module.js';
import { PostgresModule } from './postgres/postgres.module.js';
import { RedisModule } from './redis/redis.module.js';

/** Every driver-owning module, global so repositories anywhere can inject them. */
@Module({
  imports: [MongoModule, PostgresModule, RedisModule, BlobModule, MetricsModule],
  exports: [MongoModule, PostgresModule, RedisModule, BlobModule, MetricsModule],
})
export class InfraModule {}
