import dotenv from 'dotenv';

import { loadConfig, type AppConfig } from './app-config.js';
import { packageInfo } from './package-info.js';

/**
 * The single place that reads `process.env` (after merging a `.env` file when present). Everything else
 * receives the frozen {@link AppConfig} this returns.
 */
export function loadConfigFromEnvironment(): AppConfig {
  dotenv.config({ quiet: true });
  return loadConfig(process.env, packageInfo().version);
}
