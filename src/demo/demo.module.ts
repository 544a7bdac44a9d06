import { Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { DemoService } from './demo.service.js';

/** `DEMO_DATA=true`: loads the demo dataset as the hub starts, before it serves requests. */
@Injectable()
export class DemoDataLoader implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly demo: DemoService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.demoData) {
      return;
    }
    try {
      const summary = await this.demo.load();
      const added = Object.values(summary.collections).reduce((sum, c) => sum + c.added, 0);
      this.log.info(
        { demo: summary },
        added + summary.blobs.added + summary.jobs.added > 0
          ? 'demo data loaded (DEMO_DATA=true)'
          : 'demo data already present (DEMO_DATA=true)',
      );
    } catch (error) {
      // The hub is useful without the demo; say why it is missing rather than refuse to start.
      this.log.error({ err: error }, 'loading the demo data failed; `runtime-hub demo load` retries it');
    }
  }
}

/** The demo dataset (`runtime-hub demo load`, `DEMO_DATA=true`). Needs the jobs, objects and metadata cores. */
@Module({ providers: [DemoService, DemoDataLoader], exports: [DemoService] })
export class DemoModule {}
