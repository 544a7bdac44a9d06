import { Global, Module } from '@nestjs/common';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ORCH_HOST_VALUES } from '../orchestrator/host-values.js';
import { OrchestratorCoreModule } from '../orchestrator/orchestrator.module.js';
import { ORCH_WORKSPACE } from '../orchestrator/workspace.js';
import { buildHostValues, HOST_VALUE_DEPENDENCIES } from './host-values.js';
import { loadHubWorkspace } from './workspace.js';

/**
 * What the orchestrator runs in this hub: the site's definitions as its workspace, and the hub's
 * features behind the ports those definitions ask for. Load it wherever the orchestrator is loaded.
 */
@Global()
@Module({
  imports: [OrchestratorCoreModule],
  providers: [
    {
      provide: ORCH_WORKSPACE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => loadHubWorkspace(config),
    },
    {
      provide: ORCH_HOST_VALUES,
      inject: [...HOST_VALUE_DEPENDENCIES],
      useFactory: buildHostValues,
    },
  ],
  exports: [ORCH_WORKSPACE, ORCH_HOST_VALUES],
})
export class HubOrchestratorModule {}
