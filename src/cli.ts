#!/usr/bin/env node
import 'reflect-metadata';

import type { INestApplicationContext, ModuleMetadata } from '@nestjs/common';
import { Command, CommanderError } from 'commander';

import { createCliContext } from './cli/cli-context.js';
import { ConfigError, type AppConfig } from './config/app-config.js';
import { loadConfigFromEnvironment } from './config/load-env.js';
import { packageInfo } from './config/package-info.js';
import { HealthService } from './health/health.service.js';
import { PostgresService } from './infra/postgres/postgres.service.js';

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function withContext<T>(
  config: AppConfig,
  extra: ModuleMetadata,
  run: (context: INestApplicationContext) => Promise<T>,
): Promise<T> {
  const context = await createCliContext(config, extra);
  try {
    return await run(context);
  } finally {
    await context.close();
  }
}

export function buildProgram(config: () => AppConfig): Command {
  const program = new Command('runtime-hub')
    .description('Runtime Hub command line: database migrations, health checks and administration')
    .version(packageInfo().version)
    .exitOverride();

  program
    .command('migrate')
    .description('apply pending PostgreSQL migrations to the configured schema')
    .action(async () => {
      await withContext(config(), {}, async (context) => {
        const result = await context.get(PostgresService).migrate();
        out(result.applied.length > 0 ? `applied: ${result.applied.join(', ')}` : 'nothing to apply');
        out(`schema version: ${result.current}`);
      });
    });

  program
    .command('health')
    .description('check MongoDB, PostgreSQL and Redis; exits 1 when any is down')
    .action(async () => {
      const report = await withContext(config(), { providers: [HealthService] }, (context) =>
        context.get(HealthService).check(),
      );
      out(JSON.stringify(report, null, 2));
      process.exitCode = report.status === 'ok' ? 0 : 1;
    });

  return program;
}

async function main(): Promise<void> {
  let loaded: AppConfig | undefined;
  const program = buildProgram(() => (loaded ??= loadConfigFromEnvironment()));
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
