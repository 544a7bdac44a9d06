import { graph, hostResource, op, schedule, type OpDefinition } from '../orchestrator/core/index.js';

export const METADATA_EXPORTS = 'metadata_exports';

/** One collection written to `<collection>.jsonl.gz` and registered as a DRS blob. */
export interface ExportedFile {
  readonly collection: string;
  /** The file name, which is also the bundle entry's name: `<collection>.jsonl.gz`. */
  readonly name: string;
  readonly object_id: string;
  readonly documents: number;
  readonly size: number;
  readonly sha256: string;
  /** True when identical bytes were registered before (an unchanged collection) and that blob is reused. */
  readonly reused: boolean;
}

export interface ExportBundle {
  readonly bundle_id: string;
  readonly name: string;
  readonly exported_at: string;
  readonly files: readonly ExportedFile[];
}

export interface ImportCounts {
  readonly inserted: number;
  readonly updated: number;
  readonly invalid: number;
}

export interface ImportProblem {
  readonly collection: string;
  /** 1-based line of the JSON-lines file. */
  readonly line: number;
  readonly path: string;
  readonly message: string;
}

export interface ImportSummary extends ImportCounts {
  readonly collections: Readonly<Record<string, ImportCounts>>;
  /** The first problems met (up to a limit), enough to see what is wrong without a huge answer. */
  readonly errors: readonly ImportProblem[];
}

/**
 * What exports and imports need from the hub; the hosting process binds the metadata store and the
 * object registry (see orchestrator/host-values.ts).
 */
export interface MetadataExports {
  /** The collections of the schema the hub runs with. */
  collections(): string[];
  /** Streams one collection into the blob store and registers it (or reuses identical bytes). */
  exportCollection(collection: string, exportedAt: Date, signal?: AbortSignal): Promise<ExportedFile>;
  /** Registers the bundle of an export's files, named after the export time. */
  registerBundle(files: readonly ExportedFile[], exportedAt: Date): Promise<ExportBundle>;
  /** Loads an export (a bundle, or one blob) back into the metadata collections. */
  importObject(objectId: string, signal?: AbortSignal): Promise<ImportSummary>;
}

/**
 * The collections of the shipped schema, one export op each, so a run shows (and retries) every
 * collection as its own step. A hub running another schema (METADATA_SCHEMA_PATH) still exports all of
 * its collections: those missing here are exported by `register_export_bundle`, and these are skipped
 * when that schema lacks them. `exports.spec.ts` keeps this list equal to the shipped schema's.
 */
export const SHIPPED_EXPORT_COLLECTIONS = [
  'biosample_set',
  'data_generation_set',
  'data_object_set',
  'study_set',
  'workflow_execution_set',
] as const;

interface ExportPlan {
  readonly exported_at: string;
}

export const planExport = op(
  {
    name: 'plan_export',
    description: "Fix the export's time, which names its bundle and appears in every file's description",
  },
  (): ExportPlan => ({ exported_at: new Date().toISOString() }),
);

function exportCollectionOp(collection: string): OpDefinition {
  return op<Record<string, unknown>, [ExportPlan]>(
    {
      name: `export_${collection}`,
      description: `Stream ${collection} in id order to ${collection}.jsonl.gz and register it as a DRS blob`,
      ins: { plan: {} },
      requiredResources: [METADATA_EXPORTS],
      // A lost connection half-way leaves nothing registered (bytes are content-addressed), so try again.
      retryPolicy: { maxRetries: 2, delayMs: 5000, backoff: 'exponential' },
    },
    async (ctx, plan): Promise<ExportedFile | null> => {
      const port = ctx.resources[METADATA_EXPORTS] as MetadataExports;
      if (!port.collections().includes(collection)) {
        ctx.log.info(`${collection} is not a collection of this hub's schema; nothing to export`);
        return null;
      }
      const file = await port.exportCollection(collection, new Date(plan.exported_at), ctx.signal);
      ctx.log.info(
        `${file.name}: ${file.documents} document(s), ${file.size} bytes${file.reused ? ' (unchanged, blob reused)' : ''}`,
        { ...file },
      );
      return file;
    },
  );
}

export const exportCollectionOps = SHIPPED_EXPORT_COLLECTIONS.map(exportCollectionOp);

export const registerExportBundle = op<Record<string, unknown>, [ExportPlan, (ExportedFile | null)[]]>(
  {
    name: 'register_export_bundle',
    description:
      "Export the schema's remaining collections, then register every file as one DRS bundle (metadata-export-<time>)",
    ins: { plan: {}, files: {} },
    requiredResources: [METADATA_EXPORTS],
  },
  async (ctx, plan, files): Promise<ExportBundle> => {
    const port = ctx.resources[METADATA_EXPORTS] as MetadataExports;
    const exportedAt = new Date(plan.exported_at);
    const done = files.filter((file): file is ExportedFile => file !== null);
    const covered = new Set<string>(SHIPPED_EXPORT_COLLECTIONS);
    for (const collection of port.collections().filter((name) => !covered.has(name))) {
      done.push(await port.exportCollection(collection, exportedAt, ctx.signal));
    }
    const bundle = await port.registerBundle(done, exportedAt);
    ctx.materialize({
      assetKey: 'metadata_export',
      description: `Metadata exported as DRS bundle ${bundle.bundle_id}`,
      metadata: {
        bundle_id: bundle.bundle_id,
        name: bundle.name,
        documents: Object.fromEntries(done.map((file) => [file.collection, file.documents])),
      },
    });
    ctx.log.info(`bundle ${bundle.bundle_id} (${bundle.name}) holds ${done.length} file(s)`);
    return bundle;
  },
);

export const exportMetadata = graph(
  'export_metadata',
  ({ call }) => {
    const plan = call(planExport);
    const files = exportCollectionOps.map((exportOp) => call(exportOp, { plan }));
    call(registerExportBundle, { plan, files });
  },
  {
    description:
      'Export every metadata collection as <collection>.jsonl.gz (a DRS blob each) and all of them as one DRS bundle',
  },
).toJob({ resources: { [METADATA_EXPORTS]: hostResource<MetadataExports>(METADATA_EXPORTS) } });

export const DAILY_EXPORT_SCHEDULE = 'daily_export_metadata';

/** 03:00 UTC every day unless EXPORT_METADATA_CRON says otherwise (applied when the workspace loads). */
export const dailyExportMetadata = schedule({
  name: DAILY_EXPORT_SCHEDULE,
  description: 'Exports the metadata collections every day (EXPORT_METADATA_CRON, 03:00 UTC by default)',
  job: exportMetadata,
  cron: '0 3 * * *',
  timezone: 'UTC',
  defaultStatus: 'RUNNING',
});

export const importMetadataOp = op<{ object_id: string }>(
  {
    name: 'import_metadata',
    description:
      'Load a metadata export (a bundle of <collection>.jsonl.gz blobs, or one of them) into the collections: schema-validated, upserted by id',
    config: {
      type: 'object',
      properties: {
        object_id: { type: 'string', minLength: 1, description: 'The DRS id of the export bundle or blob' },
      },
      required: ['object_id'],
      additionalProperties: false,
    },
    requiredResources: [METADATA_EXPORTS],
  },
  async (ctx): Promise<ImportSummary> => {
    const port = ctx.resources[METADATA_EXPORTS] as MetadataExports;
    const summary = await port.importObject(ctx.config.object_id, ctx.signal);
    ctx.log.info(
      `imported ${ctx.config.object_id}: ${summary.inserted} inserted, ${summary.updated} updated, ${summary.invalid} invalid`,
      { ...summary.collections },
    );
    if (summary.inserted + summary.updated > 0) {
      ctx.materialize({
        assetKey: 'metadata_collections',
        description: `Metadata export ${ctx.config.object_id} was imported`,
        metadata: { object_id: ctx.config.object_id, collections: summary.collections },
      });
    }
    return summary;
  },
);

export const importMetadata = graph(
  'import_metadata',
  ({ call }) => {
    call(importMetadataOp);
  },
  { description: 'Load a metadata export (DRS bundle or blob) into the metadata collections' },
).toJob({ resources: { [METADATA_EXPORTS]: hostResource<MetadataExports>(METADATA_EXPORTS) } });
