import { Global, Module } from '@nestjs/common';

import { AllowancesRepository } from './allowances.repository.js';
import { AuthCache } from './auth-cache.js';
import { AuthService } from './auth.service.js';
import { CryptoRepository } from './crypto.repository.js';
import { RevocationsRepository } from './revocations.repository.js';

/**
 * Authentication and authorisation for every role. The accounts behind tokens come through the
 * {@link USER_ACCOUNTS} and {@link SITE_CLIENTS} ports, which `UsersCoreModule` and `SitesCoreModule`
 * provide: load all three together.
 */
@Global()
@Module({
  providers: [AllowancesRepository, RevocationsRepository, CryptoRepository, AuthCache, AuthService],
  exports: [AllowancesRepository, RevocationsRepository, CryptoRepository, AuthCache, AuthService],
})
export class AuthCoreModule {}
