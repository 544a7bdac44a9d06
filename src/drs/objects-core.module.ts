import { Global, Module } from '@nestjs/common';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ObjectAccessPolicy } from './object-access.policy.js';
import { ObjectCache } from './object-cache.js';
import { ObjectTypesBootstrap } from './object-types.bootstrap.js';
import { ObjectTypesRepository } from './object-types.repository.js';
import { ObjectsRepository } from './objects.repository.js';
import { ObjectsService } from './objects.service.js';
import { BlobUrlSigner } from './signed-urls.js';

/**
 * The object registry for every role: the API serves it, and jobs (exports, changesheets) register and
 * read blobs through {@link ObjectsService} in process.
 */
@Global()
@Module({
  providers: [
    ObjectsRepository,
    ObjectTypesRepository,
    ObjectCache,
    ObjectAccessPolicy,
    ObjectsService,
    ObjectTypesBootstrap,
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
  exports: [ObjectsService, ObjectsRepository, ObjectTypesRepository, ObjectAccessPolicy, BlobUrlSigner],
})
export class ObjectsCoreModule {}
