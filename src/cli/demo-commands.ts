import type { Command } from 'commander';

import type { AppConfig } from '../config/app-config.js';
import { DemoService, type DemoLoadSummary } from '../demo/demo.service.js';
import type { WithContext } from './cli-context.js';
import { HUB_STORE_MODULES } from './cli-modules.js';

export function printDemoSummary(summary: DemoLoadSummary, out: (line: string) => void): void {
  for (const [collection, counts] of Object.entries(summary.collections)) {
    out(`${collection}: ${counts.added} added, ${counts.present} already there`);
  }
  out(`DRS blobs: ${summary.blobs.added} added, ${summary.blobs.present} already there`);
  out(
    `jobs of workflow ${summary.jobs.workflow}: ${summary.jobs.added} added, ${summary.jobs.present} already there`,
  );
}

/** `runtime-hub demo …`. */
export function registerDemoCommands(
  program: Command,
  config: () => AppConfig,
  withContext: WithContext,
  out: (line: string) => void,
): void {
  const demo = program.command('demo').description('the small demo dataset the README walkthroughs use');
  demo
    .command('load')
    .description(
      'load the demo dataset (studies, biosamples, sequencing, data objects with DRS blobs, jobs of the test workflow); adds only what is missing, so it is safe to run again',
    )
    .action(async () => {
      const summary = await withContext(
        config(),
        {
          imports: [...HUB_STORE_MODULES],
          providers: [DemoService],
        },
        (context) => context.get(DemoService).load(),
      );
      printDemoSummary(summary, out);
    });
}
