#!/usr/bin/env node
import 'reflect-metadata';

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline, type Readable } from 'node:stream';

import type { INestApplicationContext, ModuleMetadata } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { Command, CommanderError } from 'commander';

import { registerBlobCommands } from './cli/blob-commands.js';
import { createCliContext } from './cli/cli-context.js';
import { ACCOUNT_MODULES } from './cli/cli-modules.js';
import { registerDemoCommands } from './cli/demo-commands.js';
import { registerMetadataCommands } from './cli/metadata-commands.js';
import { registerOrchestratorCommands } from './cli/orchestrator-commands.js';
import { ProgressMeter } from './cli/progress.js';
import { ConfigError, type AppConfig } from './config/app-config.js';
import { loadConfigFromEnvironment } from './config/load-env.js';
import { packageInfo } from './config/package-info.js';
import { ConflictError } from './common/errors/domain-errors.js';
import { selfUri } from './drs/drs-render.js';
import { ObjectsCoreModule } from './drs/objects-core.module.js';
import { portableName } from './drs/object-input.js';
import { ObjectRegistrationService } from './drs/object-registration.service.js';
import { HealthService } from './health/health.service.js';
import { UserCreateDto } from './users/users.dto.js';
import { UsersService } from './users/users.service.js';
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

  const users = program.command('users').description('manage user accounts');
  users
    .command('create-admin')
    .description('create an admin user (or make an existing user an admin and reset its password)')
    .requiredOption('--username <name>', 'the admin username')
    .option(
      '--password-stdin',
      'read the password from standard input (the only way: it never appears in argv)',
    )
    .action(async (options: { username: string; passwordStdin?: boolean }) => {
      if (!options.passwordStdin) {
        throw new Error(
          'pass --password-stdin and pipe the password in, so it never shows in the process list',
        );
      }
      const password = (await readStdin()).replace(/\r?\n$/, '');
      const input = plainToInstance(UserCreateDto, { username: options.username, password, is_admin: true });
      const problems = (await validate(input)).flatMap((e) => Object.values(e.constraints ?? {}));
      if (problems.length > 0) {
        throw new Error(problems.join('; '));
      }
      await withContext(config(), { imports: [...ACCOUNT_MODULES] }, async (context) => {
        const service = context.get(UsersService);
        try {
          await service.create(input);
          out(`created admin ${options.username}`);
        } catch (error) {
          if (!(error instanceof ConflictError)) {
            throw error;
          }
          await service.update(options.username, { password, is_admin: true, disabled: false });
          out(`updated ${options.username}: now an admin with the new password`);
        }
      });
    });

  registerOrchestratorCommands(program, config, withContext, out);
  registerMetadataCommands(program, config, withContext, out);
  registerDemoCommands(program, config, withContext, out);
  registerBlobCommands(program, config, out);
  const objects = program.command('objects').description('manage DRS objects');
  objects
    .command('register-file')
    .description(
      'stream a file into the blob store and register it as a DRS blob; prints its id and drs:// URI',
    )
    .argument('<path>', 'the file to register')
    .option('--name <name>', 'the object name (default: the file name, made portable)')
    .option('--type <type...>', 'object type ids to label it with (see GET /object_types)')
    .option('--description <text>', 'a description')
    .option('--mime-type <type>', 'the media type, e.g. application/gzip')
    .option('--exists-ok', 'when the same bytes are registered already, print that object instead of failing')
    .action(
      async (
        path: string,
        options: {
          name?: string;
          type?: string[];
          description?: string;
          mimeType?: string;
          existsOk?: boolean;
        },
      ) => {
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile()) {
          throw new Error(`${path} is not a readable file`);
        }
        const name = options.name ?? portableName(basename(path));
        const loaded = config();
        await withContext(loaded, { imports: [...ACCOUNT_MODULES, ObjectsCoreModule] }, async (context) => {
          const service = context.get(ObjectRegistrationService);
          const source = createReadStream(path);
          let input: Readable = source;
          if (info.size >= LARGE_FILE_BYTES) {
            const meter = new ProgressMeter(
              info.size,
              (text) => process.stderr.write(text),
              process.stderr.isTTY === true,
            );
            // pipeline() destroys both streams on failure, so the store sees a read error through the meter.
            pipeline(source, meter, () => undefined);
            input = meter;
          }
          const doc = await service.registerBlobFromStream(
            input,
            {
              ...(name ? { name } : {}),
              ...(options.description ? { description: options.description } : {}),
              ...(options.mimeType ? { mime_type: options.mimeType } : {}),
              ...(options.type ? { types: options.type } : {}),
            },
            service.systemRegistrant('cli'),
            options.existsOk ? 'reuse' : 'conflict',
          );
          out(`id: ${doc.id}`);
          out(`drs_uri: ${selfUri(loaded.http.publicHostname, doc.id)}`);
          out(`size: ${doc.size}`);
          for (const checksum of doc.checksums) {
            out(`${checksum.type}: ${checksum.checksum}`);
          }
        });
      },
    );

  return program;
}

/** Files at least this big get a progress meter on standard error. */
const LARGE_FILE_BYTES = 16 * 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
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
