import { Global, Module } from '@nestjs/common';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { BLOB_STORE } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';

@Global()
@Module({
  providers: [
    {
      provide: BLOB_STORE,
      useFactory: (config: AppConfig) => new LocalBlobStore(config.blobs.dir),
      inject: [APP_CONFIG],
    },
  ],
  exports: [BLOB_STORE],
})
export class BlobModule {}
