import { readFile } from 'node:fs/promises';

import type { ModuleMetadata } from '@nestjs/common';
import type { Command } from 'commander';

import type { AppConfig } from '../config/app-config.js';
import { ExportsCoreModule } from '../exports/exports.module.js';
import { HubOrchestratorModule } from '../hub/hub-orchestrator.module.js';
import { loadHubWorkspace } from '../hub/workspace.js';
import { RunService } from '../orchestrator/api/runs.service.js';
import {
  executeInProcess,
  RUN_STATUSES,
  RunConfigError,
  type OrchestratorEvent,
  type RepositoryDefinition,
  type RunStatus,
} from '../orchestrator/core/index.js';
import { ORCH_HOST_VALUES } from '../orchestrator/host-values.js';
import { OrchestratorCoreModule } from '../orchestrator/orchestrator.module.js';
import type { RunRecord } from '../orchestrator/storage/records.js';
import { ORCH_WORKSPACE } from '../orchestrator/workspace.js';
import type { WithContext } from './cli-context.js';
import { HUB_STORE_MODULES } from './cli-modules.js';

const ORCHESTRATOR: ModuleMetadata = { imports: [OrchestratorCoreModule, HubOrchestratorModule] };
/** For executing jobs whose host resources reach into the job-claim, auth, object and metadata stores. */
const WITH_HUB_SERVICES: ModuleMetadata = {
  imports: [...HUB_STORE_MODULES, ExportsCoreModule, OrchestratorCoreModule, HubOrchestratorModule],
};

async function readRunConfig(path: string | undefined): Promise<unknown> {
  if (!path) {
    return {};
  }
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`--config ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function parseTags(pairs: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) {
      throw new Error(`--tag ${pair}: write tags as key=value`);
    }
    tags[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return tags;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function formatEvent(event: OrchestratorEvent): string {
  const time = event.timestamp.toISOString().slice(11, 23);
  return `${time}  ${event.type.padEnd(21)} ${(event.stepKey ?? '').padEnd(20)} ${event.message}`;
}

function formatRun(run: RunRecord): string {
  return `${run.runId}  ${run.status.padEnd(9)}  ${run.jobName.padEnd(20)}  ${run.createdAt.toISOString()}`;
}

/** `runtime-hub job …` and `runtime-hub runs …`. */
export function registerOrchestratorCommands(
  program: Command,
  config: () => AppConfig,
  withContext: WithContext,
  out: (line: string) => void,
): void {
  const job = program.command('job').description('list, execute and launch orchestrator jobs');

  job
    .command('list')
    .description('list the jobs this hub defines, with their steps')
    .action(async () => {
      await withContext(config(), ORCHESTRATOR, (context) => {
        for (const view of context.get(RunService).listJobs()) {
          out(`${view.name}  (steps in order: ${view.graph.nodes.map((n) => n.name).join(', ')})`);
          if (view.description) {
            out(`    ${view.description}`);
          }
        }
        return Promise.resolve();
      });
    });

  job
    .command('execute <job>')
    .description('execute a job in this process, printing its events as they happen; exits 0 only on success')
    .option('--config <file>', 'run config as a JSON file')
    .action(async (name: string, options: { config?: string }) => {
      const runConfig = await readRunConfig(options.config);
      const known = (await loadHubWorkspace(config())).jobs.get(name);
      // Only resources its ops require are built, so only those decide whether hub services must load.
      const needsHub = (known?.graph.nodes ?? []).some((node) =>
        node.op.requiredResources.some((key) => known?.resources[key]?.hostKey !== undefined),
      );
      await withContext(config(), needsHub ? WITH_HUB_SERVICES : ORCHESTRATOR, async (context) => {
        const workspace = context.get<RepositoryDefinition>(ORCH_WORKSPACE);
        const definition = workspace.jobs.get(name);
        if (!definition) {
          throw new Error(`no job is named "${name}"; known jobs: ${[...workspace.jobs.keys()].join(', ')}`);
        }
        process.stderr.write(
          `executing ${name} in this process: its events print here and the run is not stored (runs list and the API will not show it; runtime-hub job launch stores a run for the hub's workers)\n`,
        );
        try {
          const result = await executeInProcess(definition, {
            runConfig,
            host: context.get<Readonly<Record<string, unknown>>>(ORCH_HOST_VALUES),
            onEvent: (event) => out(formatEvent(event)),
          });
          out(`run ${result.runId} ${result.status}`);
          process.exitCode = result.success ? 0 : 1;
        } catch (error) {
          if (error instanceof RunConfigError) {
            throw new Error(
              `invalid run config for "${name}":\n${error.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
              { cause: error },
            );
          }
          throw error;
        }
      });
    });

  job
    .command('launch <job>')
    .description('queue a run through Redis for the hub’s workers; prints the run id')
    .option('--config <file>', 'run config as a JSON file')
    .option('--tag <key=value>', 'a tag for the run (repeatable)', collect, [])
    .action(async (name: string, options: { config?: string; tag: string[] }) => {
      const runConfig = await readRunConfig(options.config);
      await withContext(config(), ORCHESTRATOR, async (context) => {
        const run = await context
          .get(RunService)
          .launch(name, { runConfig, tags: parseTags(options.tag) }, 'cli');
        out(formatRun(run));
      });
    });

  const runs = program.command('runs').description('inspect and cancel orchestrator runs');

  runs
    .command('list')
    .description('list runs, newest first')
    .option(
      '--status <status>',
      `only runs in this status (${RUN_STATUSES.join(', ')}; repeatable)`,
      collect,
      [],
    )
    .option('--job <name>', 'only runs of this job')
    .option('--limit <n>', 'how many', '20')
    .action(async (options: { status: string[]; job?: string; limit: string }) => {
      const bad = options.status.filter((s) => !(RUN_STATUSES as readonly string[]).includes(s));
      if (bad.length > 0) {
        throw new Error(`--status ${bad.join(', ')}: use one of ${RUN_STATUSES.join(', ')}`);
      }
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
        throw new Error('--limit must be an integer from 1 to 500');
      }
      await withContext(config(), ORCHESTRATOR, async (context) => {
        const page = await context.get(RunService).list({
          ...(options.status.length > 0 ? { statuses: options.status as RunStatus[] } : {}),
          ...(options.job ? { jobName: options.job } : {}),
          pageSize: limit,
        });
        if (page.runs.length === 0) {
          const filters = [
            ...(options.status.length > 0 ? [`status ${options.status.join(' or ')}`] : []),
            ...(options.job ? [`job ${options.job}`] : []),
          ];
          out(filters.length > 0 ? `no runs (${filters.join(', ')})` : 'no runs');
          return;
        }
        page.runs.forEach((run) => out(formatRun(run)));
      });
    });

  runs
    .command('show <runId>')
    .description('show a run as JSON, and its events with --events')
    .option('--events', 'also print its event log')
    .action(async (runId: string, options: { events?: boolean }) => {
      await withContext(config(), ORCHESTRATOR, async (context) => {
        const service = context.get(RunService);
        out(JSON.stringify(await service.get(runId), null, 2));
        if (options.events) {
          let after = 0;
          for (;;) {
            const page = await service.events(runId, after, 1000);
            page.events.forEach((event) => out(formatEvent(event)));
            if (page.events.length === 0) {
              break;
            }
            after = page.cursor;
          }
        }
      });
    });

  runs
    .command('cancel <runId>')
    .description('cancel a run from here, whichever process executes it')
    .action(async (runId: string) => {
      await withContext(config(), ORCHESTRATOR, async (context) => {
        out(formatRun(await context.get(RunService).cancel(runId)));
      });
    });
}
