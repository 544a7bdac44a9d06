import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

import type { ModuleMetadata } from '@nestjs/common';
import type { Command } from 'commander';

import type { AppConfig } from '../config/app-config.js';
import { DRS_ID_PATTERN } from '../drs/object.model.js';
import { collectionOfFileName, EXPORT_SUFFIX } from '../exports/export-format.js';
import { ExportsCoreModule } from '../exports/exports.module.js';
import { ExportsService, type ImportSource } from '../exports/exports.service.js';
import type { ImportSummary } from '../site/exports.js';
import type { WithContext } from './cli-context.js';
import { HUB_STORE_MODULES } from './cli-modules.js';
import { DocumentProgress } from './progress.js';

const WITH_EXPORTS: ModuleMetadata = {
  imports: [...HUB_STORE_MODULES, ExportsCoreModule],
};

function fileSource(path: string, size: number): ImportSource {
  const collection = collectionOfFileName(path);
  if (!collection) {
    throw new Error(`${path} is not named <collection>${EXPORT_SUFFIX}, so its collection is unknown`);
  }
  return { collection, name: basename(path), size, open: () => createReadStream(path) };
}

/** The files of a directory or a single file; undefined when `source` is not on disk (then a DRS id). */
async function localSources(source: string): Promise<ImportSource[] | undefined> {
  const info = await stat(source).catch(() => undefined);
  if (!info) {
    return undefined;
  }
  if (info.isFile()) {
    return [fileSource(source, info.size)];
  }
  if (!info.isDirectory()) {
    throw new Error(`${source} is neither a file nor a directory`);
  }
  const names = (await readdir(source)).filter((name) => name.endsWith(EXPORT_SUFFIX)).sort();
  if (names.length === 0) {
    throw new Error(`${source} holds no <collection>${EXPORT_SUFFIX} file`);
  }
  return Promise.all(
    names.map(async (name) => fileSource(join(source, name), (await stat(join(source, name))).size)),
  );
}

export function printImportSummary(summary: ImportSummary, out: (line: string) => void): void {
  for (const [collection, counts] of Object.entries(summary.collections)) {
    out(`${collection}: ${counts.inserted} inserted, ${counts.updated} updated, ${counts.invalid} invalid`);
  }
  out(`total: ${summary.inserted} inserted, ${summary.updated} updated, ${summary.invalid} invalid`);
  if (summary.errors.length > 0) {
    out(`first problems (up to ${summary.errors.length}):`);
    for (const problem of summary.errors) {
      out(
        `  ${problem.collection} line ${problem.line}${problem.path ? ` ${problem.path}` : ''}: ${problem.message}`,
      );
    }
  }
}

export function registerMetadataCommands(
  program: Command,
  config: () => AppConfig,
  withContext: WithContext,
  out: (line: string) => void,
): void {
  const metadata = program.command('metadata').description('export and import the metadata collections');
  metadata
    .command('import')
    .description(
      'load a metadata export into the collections: every document is checked against the schema and upserted by id; exits 1 when some documents were invalid',
    )
    .argument(
      '<source>',
      `a directory of <collection>${EXPORT_SUFFIX} files, one such file, or the DRS id of an export bundle or blob`,
    )
    .option('--no-progress', 'do not draw the progress bar on standard error')
    .action(async (source: string, options: { progress: boolean }) => {
      const local = await localSources(source);
      if (!local && !DRS_ID_PATTERN.test(source)) {
        throw new Error(`${source} is not a file, a directory or a DRS object id`);
      }
      const summary = await withContext(config(), WITH_EXPORTS, async (context) => {
        const exportsService = context.get(ExportsService);
        const sources = local ?? (await exportsService.importSourcesOfObject(source));
        const totalBytes = sources.reduce((sum, each) => sum + each.size, 0);
        const progress = options.progress
          ? new DocumentProgress(
              totalBytes,
              (text) => process.stderr.write(text),
              process.stderr.isTTY === true,
            )
          : undefined;
        const result = await exportsService.importSources(sources, (p) =>
          progress?.update(p.documents, p.bytes),
        );
        progress?.finish();
        return result;
      });
      printImportSummary(summary, out);
      process.exitCode = summary.invalid > 0 ? 1 : 0;
    });

  metadata
    .command('export')
    .description(
      'export every collection now, in this process, as DRS blobs and one bundle; prints the bundle id (the API and the schedule run the same job through the workers)',
    )
    .action(async () => {
      const bundle = await withContext(config(), WITH_EXPORTS, async (context) => {
        const exportsService = context.get(ExportsService);
        const exportedAt = new Date();
        const files = [];
        for (const collection of exportsService.collections()) {
          const file = await exportsService.exportCollection(collection, exportedAt);
          out(
            `${file.name}: ${file.documents} documents, ${file.size} bytes, ${file.object_id}${file.reused ? ' (unchanged)' : ''}`,
          );
          files.push(file);
        }
        return exportsService.registerBundle(files, exportedAt);
      });
      out(`bundle: ${bundle.bundle_id} (${bundle.name})`);
    });
}
