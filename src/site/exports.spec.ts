import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { MetadataSchema } from '../metadata/schema/metadata-schema.js';
import { executeInProcess } from '../orchestrator/core/index.js';
import {
  dailyExportMetadata,
  exportMetadata,
  importMetadata,
  METADATA_EXPORTS,
  SHIPPED_EXPORT_COLLECTIONS,
  type ExportedFile,
  type MetadataExports,
} from './exports.js';
import { siteRepository } from './repository.js';

function fakeExports(collections: string[]): MetadataExports & { exported: string[]; bundles: string[][] } {
  const exported: string[] = [];
  const bundles: string[][] = [];
  return {
    exported,
    bundles,
    collections: () => collections,
    exportCollection: (collection, exportedAt) => {
      exported.push(`${collection}@${exportedAt.toISOString()}`);
      const file: ExportedFile = {
        collection,
        name: `${collection}.jsonl.gz`,
        object_id: `sys0${collection}`,
        documents: 1,
        size: 20,
        sha256: 'ab',
        reused: false,
      };
      return Promise.resolve(file);
    },
    registerBundle: (files, exportedAt) => {
      bundles.push(files.map((f) => f.collection));
      return Promise.resolve({
        bundle_id: 'sys0bundle',
        name: 'metadata-export-x',
        exported_at: exportedAt.toISOString(),
        files: [...files],
      });
    },
    importObject: () => Promise.resolve({ inserted: 2, updated: 1, invalid: 0, collections: {}, errors: [] }),
  };
}

describe('export_metadata and import_metadata', () => {
  it('has one export op per collection of the shipped schema', () => {
    const schema = MetadataSchema.fromDocument(
      JSON.parse(
        readFileSync(new URL('../metadata/schema/nmdc-lite.schema.json', import.meta.url), 'utf8'),
      ) as unknown,
      'shipped',
    );
    expect([...SHIPPED_EXPORT_COLLECTIONS]).toEqual(schema.collections().map((c) => c.name));
    const nodes = exportMetadata.graph.nodes.map((node) => node.name);
    expect(nodes[0]).toBe('plan_export');
    expect(nodes.at(-1)).toBe('register_export_bundle');
    expect(nodes).toHaveLength(SHIPPED_EXPORT_COLLECTIONS.length + 2);
  });

  it('exports every collection at one export time and bundles them all', async () => {
    const port = fakeExports([...SHIPPED_EXPORT_COLLECTIONS]);
    const result = await executeInProcess(exportMetadata, { host: { [METADATA_EXPORTS]: port } });
    expect(result.success).toBe(true);
    expect(new Set(port.exported.map((e) => e.split('@')[1])).size).toBe(1);
    expect(port.bundles).toEqual([[...SHIPPED_EXPORT_COLLECTIONS]]);
    expect(result.output('register_export_bundle')).toMatchObject({ bundle_id: 'sys0bundle' });
    expect(result.events.some((e) => e.type === 'ASSET_MATERIALIZATION')).toBe(true);
  });

  it('follows the schema the hub runs with: skips missing collections, exports extra ones', async () => {
    const port = fakeExports(['study_set', 'extra_set']);
    const result = await executeInProcess(exportMetadata, { host: { [METADATA_EXPORTS]: port } });
    expect(result.success).toBe(true);
    expect(port.bundles).toEqual([['study_set', 'extra_set']]);
  });

  it('imports the object named in its config, which is required', async () => {
    const port = fakeExports([]);
    const result = await executeInProcess(importMetadata, {
      host: { [METADATA_EXPORTS]: port },
      runConfig: { ops: { import_metadata: { config: { object_id: 'sys0abc' } } } },
    });
    expect(result.output('import_metadata')).toMatchObject({ inserted: 2, updated: 1 });
    await expect(executeInProcess(importMetadata, { host: { [METADATA_EXPORTS]: port } })).rejects.toThrow(
      /object_id/,
    );
  });

  it('are served by the site repository, with a daily schedule at 03:00 UTC', () => {
    expect(siteRepository.jobs.has('export_metadata')).toBe(true);
    expect(siteRepository.jobs.has('import_metadata')).toBe(true);
    expect(dailyExportMetadata).toMatchObject({ cron: '0 3 * * *', timezone: 'UTC' });
    expect(siteRepository.schedules.get('daily_export_metadata')?.job.name).toBe('export_metadata');
  });
});
