import type { AppConfig } from '../config/app-config.js';
import type { RepositoryDefinition } from '../orchestrator/core/index.js';
import { loadWorkspace } from '../orchestrator/workspace.js';
import { DAILY_EXPORT_SCHEDULE } from '../site/exports.js';
import { siteRepository } from '../site/repository.js';

/** The hub's workspace: its site's definitions (EXPORT_METADATA_CRON sets the daily export's cron). */
export function loadHubWorkspace(config: AppConfig): Promise<RepositoryDefinition> {
  return loadWorkspace(config, siteRepository, { [DAILY_EXPORT_SCHEDULE]: config.exports.cron });
}
