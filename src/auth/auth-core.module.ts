import { Global, Module } from '@nestjs/common';

import { SitesRepository } from '../sites/sites.repository.js';
import { SitesService } from '../sites/sites.service.js';
import { UsersRepository } from '../users/users.repository.js';
import { UsersService } from '../users/users.service.js';
import { AccountsBootstrap } from './accounts-bootstrap.js';
import { AllowancesRepository } from './allowances.repository.js';
import { AuthCache } from './auth-cache.js';
import { AuthService } from './auth.service.js';
import { CryptoRepository } from './crypto.repository.js';
import { RevocationsRepository } from './revocations.repository.js';

/**
 * Accounts and their rules, for every role: the API authenticates with them, and the orchestrator's
 * sensors act as the hub's own site.
 */
@Global()
@Module({
  providers: [
    UsersRepository,
    SitesRepository,
    AllowancesRepository,
    RevocationsRepository,
    CryptoRepository,
    AuthCache,
    AuthService,
    UsersService,
    SitesService,
    AccountsBootstrap,
  ],
  exports: [
    UsersRepository,
    SitesRepository,
    AllowancesRepository,
    RevocationsRepository,
    CryptoRepository,
    AuthCache,
    AuthService,
    UsersService,
    SitesService,
  ],
})
export class AuthCoreModule {}
