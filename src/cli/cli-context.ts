import {
  Module,
  type DynamicModule,
  type INestApplicationContext,
  type ModuleMetadata,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';

import type { AppConfig } from '../config/app-config.js';
import { ConfigModule } from '../config/config.module.js';
import { InfraModule } from '../infra/infra.module.js';
import { createLogger } from '../infra/logging/logger.js';
import { LoggingModule } from '../infra/logging/logging.module.js';
import { NestPinoLogger } from '../infra/logging/nest-logger.js';

@Module({})
class CliModule {
  static forRoot(config: AppConfig, logger: Logger, extra: ModuleMetadata): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        InfraModule,
        ...(extra.imports ?? []),
      ],
      providers: extra.providers ?? [],
    };
  }
}

/** Runs a command's work in a context built with `extra`, closing the context afterwards. */
export type WithContext = <T>(
  config: AppConfig,
  extra: ModuleMetadata,
  run: (context: INestApplicationContext) => Promise<T>,
) => Promise<T>;

/** A Nest context with the infrastructure and whatever a command needs, without HTTP. */
export async function createCliContext(
  config: AppConfig,
  extra: ModuleMetadata = {},
): Promise<INestApplicationContext> {
  // Commands print their own results; only warnings and errors from the hub's internals are worth showing.
  const quiet = config.log.level === 'info' || config.log.level === 'debug' || config.log.level === 'trace';
  const logger = createLogger({
    ...config,
    log: { ...config.log, level: quiet ? 'warn' : config.log.level },
  });
  return NestFactory.createApplicationContext(CliModule.forRoot(config, logger, extra), {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
  });
}
