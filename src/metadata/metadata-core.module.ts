import { Global, Module } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { OpenCursors } from '../infra/mongo/open-cursors.js';
import { MINTABLE_CLASSES } from '../pids/mintable-classes.js';
import { DocumentLocksRepository } from './document-locks.repository.js';
import { GuardedWriter } from './guarded-writer.service.js';
import { MetadataInService } from './metadata-in.service.js';
import { MetadataRepository } from './metadata.repository.js';
import { MetadataStore } from './metadata-store.service.js';
import { MetadataSchema } from './schema/metadata-schema.js';
import { MetadataSchemaRepository } from './schema/metadata-schema.repository.js';

/**
 * The metadata schema and store, for every role: the API reads and writes through them, and the
 * orchestrator's jobs (metadata-in, changesheets, exports) use {@link MetadataStore} in process.
 */
@Global()
@Module({
  providers: [
    MetadataSchemaRepository,
    {
      provide: MetadataSchema,
      inject: [APP_CONFIG, MetadataSchemaRepository, LOGGER],
      useFactory: (config: AppConfig, files: MetadataSchemaRepository, log: Logger): MetadataSchema => {
        const schema = files.load(config.metadata.schemaPath);
        log.debug(
          { source: schema.source, collections: schema.collections().length },
          `metadata schema ${schema.title} ${schema.version} loaded`,
        );
        if (!schema.idPrefix) {
          log.warn(
            { source: schema.source },
            'the metadata schema declares no typecodes in its id patterns: ids cannot be minted or resolved by typecode',
          );
        }
        return schema;
      },
    },
    // The minter reads the classes it mints ids for from this schema, through its own port.
    { provide: MINTABLE_CLASSES, useExisting: MetadataSchema },
    OpenCursors,
    MetadataRepository,
    MetadataStore,
    MetadataInService,
    DocumentLocksRepository,
    GuardedWriter,
  ],
  exports: [
    GuardedWriter,
    MetadataSchema,
    MINTABLE_CLASSES,
    OpenCursors,
    MetadataRepository,
    MetadataStore,
    MetadataInService,
  ],
})
export class MetadataCoreModule {}
