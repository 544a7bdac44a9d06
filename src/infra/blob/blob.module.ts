import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { BLOB_STORE, type BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/** The store BLOB_STORE names, or the other one (for migrating between them). */
export function createBlobStore(config: AppConfig, kind = config.blobs.store): BlobStore {
  if (kind === 'local') {
    return new LocalBlobStore(config.blobs.dir);
  }
  const { s3 } = config.blobs;
  return new S3BlobStore({
    endpoint: s3.endpoint,
    publicEndpoint: s3.publicEndpoint,
    region: s3.region,
    bucket: s3.bucket,
    keyPrefix: s3.keyPrefix,
    forcePathStyle: s3.forcePathStyle,
    ...(s3.credentials ? { credentials: s3.credentials } : {}),
  });
}

@Global()
@Module({
  providers: [
    {
      provide: BLOB_STORE,
      useFactory: (config: AppConfig) => createBlobStore(config),
      inject: [APP_CONFIG],
    },
  ],
  exports: [BLOB_STORE],
})
export class BlobModule implements OnApplicationShutdown {
  constructor(@Inject(BLOB_STORE) private readonly store: BlobStore) {}

  onApplicationShutdown(): void {
    if (this.store instanceof S3BlobStore) {
      this.store.close();
    }
  }
}
