import { Global, Module } from '@nestjs/common';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ObjectAccessPolicy } from './object-access.policy.js';
import { ObjectCache } from './object-cache.js';
import { ObjectTypesBootstrap } from './object-types.bootstrap.js';
import { ObjectTypesRepository } from './object-types.repository.js';
import { ObjectsRepository } from './objects.repository.js';
import { ObjectChangesService } from './object-changes.service.js';
import { ObjectReadsService } from './object-reads.service.js';
import { ObjectRecords } from './object-records.js';
import { ObjectRegistrationService } from './object-registration.service.js';
import { BlobUrlSigner } from './signed-urls.js';
import { TypedObjectsService } from './typed-objects.service.js';

/**
 * The object registry for every role: the API serves it, and jobs (exports, changesheets) register and
 * read blobs in process through {@link ObjectRegistrationService} and {@link ObjectReadsService}.
 */
@Global()
@Module({
  providers: [
    ObjectsRepository,
    ObjectTypesRepository,
    ObjectCache,
    ObjectAccessPolicy,
    ObjectReadsService,
    ObjectRecords,
    ObjectRegistrationService,
    ObjectChangesService,
    ObjectTypesBootstrap,
    TypedObjectsService,
    {
      provide: BlobUrlSigner,
      useFactory: (config: AppConfig) =>
        new BlobUrlSigner(
          config.secrets.urlSigningKey,
          config.http.publicBaseUrl,
          config.drs.signedUrlTtlSeconds,
        ),
      inject: [APP_CONFIG],
    },
  ],
  exports: [
    ObjectReadsService,
    ObjectRegistrationService,
    ObjectChangesService,
    ObjectsRepository,
    ObjectTypesRepository,
    ObjectAccessPolicy,
    BlobUrlSigner,
    TypedObjectsService,
  ],
})
export class ObjectsCoreModule {}
