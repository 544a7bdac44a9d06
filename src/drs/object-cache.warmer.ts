import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';

import { ObjectsService } from './objects.service.js';

/**
 * Starts keeping the object cache warm once the API is up. Not awaited: the first requests after boot
 * are served from the database while the registry loads.
 */
@Injectable()
export class ObjectCacheWarmer implements OnApplicationBootstrap {
  constructor(private readonly objects: ObjectsService) {}

  onApplicationBootstrap(): void {
    void this.objects.keepCacheWarm();
  }
}
