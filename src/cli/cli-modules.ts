import type { Type } from '@nestjs/common';

import { AuthCoreModule } from '../auth/auth-core.module.js';
import { CommonModule } from '../common/common.module.js';
import { ObjectsCoreModule } from '../drs/objects-core.module.js';
import { JobsCoreModule } from '../jobs/jobs.module.js';
import { MetadataCoreModule } from '../metadata/metadata-core.module.js';
import { PidsCoreModule } from '../pids/pids-core.module.js';
import { SitesCoreModule } from '../sites/sites-core.module.js';
import { UsersCoreModule } from '../users/users-core.module.js';

/**
 * The modules a command context needs for accounts: auth reads users and sites through ports that the
 * users and sites modules bind, so the three always come together.
 */
export const ACCOUNT_MODULES: readonly Type[] = [
  CommonModule,
  AuthCoreModule,
  UsersCoreModule,
  SitesCoreModule,
];

/**
 * The hub's stores behind the accounts: job claims, DRS objects and metadata (whose store marks minted
 * ids through the pids module).
 */
export const HUB_STORE_MODULES: readonly Type[] = [
  ...ACCOUNT_MODULES,
  JobsCoreModule,
  ObjectsCoreModule,
  MetadataCoreModule,
  PidsCoreModule,
];
