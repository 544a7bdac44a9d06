import dotenv from 'dotenv';

import { loadConfig, type AppConfig } from './app-config.js';
import { withDevelopmentSecrets } from './dev-secrets.store.js';
import { packageInfo } from './package-info.js';

/**
 * The single place that reads `process.env` (after merging a `.env` file when present). Everything else
 * receives the frozen {@link AppConfig} this returns.
 */
export function loadConfigFromEnvironment(): AppConfig {
  dotenv.config({ quiet: true });
  const { env, created, file } = withDevelopmentSecrets(process.env);
  if (created) {
    process.stderr.write(
      `runtime-hub: generated random development secrets into ${file}; set JWT_SECRET and URL_SIGNING_KEY yourself in production\n`,
    );
  }
  return loadConfig(env, packageInfo().version);
}
