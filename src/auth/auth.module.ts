import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ThrottlerModule } from '@nestjs/throttler';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { RedisService } from '../infra/redis/redis.service.js';
import { AllowancesController } from './allowances.controller.js';
import { AllowancesService } from './allowances.service.js';
import { HubAuthGuard } from './auth.guard.js';
import { JwtStrategy } from './jwt.strategy.js';
import { AddressFailureLimiter, RedisThrottlerStorage } from './throttle.js';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';

/** The HTTP side of authentication: tokens, the global guard and allowance administration. */
@Module({
  imports: [
    PassportModule,
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG, RedisService],
      useFactory: (config: AppConfig, redis: RedisService) => ({
        throttlers: [
          {
            name: 'token',
            limit: config.auth.tokenRateLimit,
            ttl: config.auth.tokenRateWindowSeconds * 1000,
          },
        ],
        storage: new RedisThrottlerStorage(redis),
      }),
    }),
  ],
  controllers: [TokenController, AllowancesController],
  providers: [
    TokenService,
    AddressFailureLimiter,
    AllowancesService,
    JwtStrategy,
    { provide: APP_GUARD, useClass: HubAuthGuard },
  ],
})
export class AuthModule {}
