import { PassThrough, type Readable } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';

import type { Principal } from '../auth/principal.js';
import { BadRequestError, NotFoundError, type FieldProblem } from '../common/errors/domain-errors.js';
import type { ListRequestDto, Page } from '../common/pagination/list-request.dto.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { ObjectDoc } from '../drs/object.model.js';
import type { ObjectRecordDto } from '../drs/objects.dto.js';
import { ObjectReadsService } from '../drs/object-reads.service.js';
import { ObjectRegistrationService } from '../drs/object-registration.service.js';
import { MetadataStore } from '../metadata/metadata-store.service.js';
import type { MetadataDoc } from '../metadata/metadata.repository.js';
import type {
  ExportBundle,
  ExportedFile,
  ImportCounts,
  ImportProblem,
  ImportSummary,
} from '../site/exports.js';
import {
  collectionOfFileName,
  EXPORT_MIME_TYPE,
  EXPORT_OBJECT_TYPE,
  exportBundleName,
  exportDescription,
  exportFileName,
  gzipJsonLines,
  readGzipJsonLines,
} from './export-format.js';

/** One file of an export to load: where its bytes come from and which collection they belong to. */
export interface ImportSource {
  readonly collection: string;
  /** The file name or bundle entry name, for messages. */
  readonly name: string;
  /** Compressed size in bytes, for progress. */
  readonly size: number;
  open(): Readable;
}

export interface ImportProgress {
  readonly collection: string;
  /** Documents read so far across all sources (valid or not). */
  readonly documents: number;
  /** Compressed bytes read so far across all sources. */
  readonly bytes: number;
  readonly totalBytes: number;
}

/** Documents written per round trip; matches the repository's write batch. */
const IMPORT_BATCH = 1000;
/** An import reports at most this many problems: enough to see what is wrong, small enough to store. */
export const MAX_IMPORT_ERRORS = 20;

/**
 * Metadata exports and imports: each collection streamed to a gzipped JSON-lines DRS blob, the blobs
 * gathered in a bundle, and exports loaded back. Used in process by the export/import jobs, the API
 * and the CLI.
 */
@Injectable()
export class ExportsService {
  private readonly publicBaseUrl: string;

  constructor(
    private readonly store: MetadataStore,
    private readonly objects: ObjectReadsService,
    private readonly registration: ObjectRegistrationService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.publicBaseUrl = config.http.publicBaseUrl;
  }

  collections(): string[] {
    return this.store.schema.collections().map((spec) => spec.name);
  }

  /**
   * Streams a collection (cursor → JSON lines in id order → gzip → blob store, hashed on the way) and
   * registers it as a DRS blob. Unchanged data gives identical bytes, and the blob registered for them
   * before is reused rather than refused as a duplicate.
   */
  async exportCollection(collection: string, exportedAt: Date, signal?: AbortSignal): Promise<ExportedFile> {
    if (!this.store.collectionSpec(collection)) {
      throw new BadRequestError(`${collection} is not a metadata collection of this hub's schema`);
    }
    const started = Date.now();
    const name = exportFileName(collection);
    const { stream, documents } = gzipJsonLines(this.store.stream(collection));
    const abort = () => stream.destroy(new Error('the export was canceled'));
    signal?.addEventListener('abort', abort, { once: true });
    let doc: ObjectDoc;
    try {
      const stored = await this.registration.storeBytes(stream);
      doc = await this.registration.registerStoredBytes(
        stored,
        {
          name,
          mime_type: EXPORT_MIME_TYPE,
          types: [EXPORT_OBJECT_TYPE],
          description: exportDescription(collection, documents(), exportedAt),
        },
        this.registration.systemRegistrant('export_metadata'),
        'reuse',
      );
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    const sha256 = doc.checksums.find((c) => c.type === 'sha-256')?.checksum ?? '';
    return {
      collection,
      name,
      object_id: doc.id,
      documents: documents(),
      size: doc.size,
      sha256,
      reused: Date.parse(doc.created_time) < started,
    };
  }

  async registerBundle(files: readonly ExportedFile[], exportedAt: Date): Promise<ExportBundle> {
    const name = exportBundleName(exportedAt);
    const total = files.reduce((sum, file) => sum + file.documents, 0);
    const bundle = await this.registration.registerBundle(
      {
        name,
        description: `Export of ${files.length} metadata collection(s) at ${exportedAt.toISOString()}: ${total} document(s)`,
        types: [EXPORT_OBJECT_TYPE],
        contents: files.map((file) => ({ name: file.name, id: file.object_id })),
      },
      this.registration.systemRegistrant('export_metadata'),
    );
    return { bundle_id: bundle.id, name, exported_at: exportedAt.toISOString(), files: [...files] };
  }

  listBundles(
    request: ListRequestDto,
    principal: Principal | undefined,
  ): Promise<Page<Partial<ObjectRecordDto>>> {
    return this.objects.listBundlesNewestFirst(EXPORT_OBJECT_TYPE, request, principal);
  }

  /** The DRS URL of the newest export bundle; 404 when nothing was exported yet. */
  async latestBundleUrl(principal: Principal | undefined): Promise<string> {
    const latest = await this.objects.latestBundle(EXPORT_OBJECT_TYPE, principal);
    if (!latest) {
      throw new NotFoundError(
        'No metadata export exists yet; POST /metadata/exports runs one (or wait for daily_export_metadata)',
      );
    }
    return `${this.publicBaseUrl}/ga4gh/drs/v1/objects/${latest.id}`;
  }

  /**
   * The files of a DRS export: a bundle's `<collection>.jsonl.gz` members, or one such blob. Refuses
   * (400) anything else before a document is touched.
   */
  async importSourcesOfObject(objectId: string): Promise<ImportSource[]> {
    const doc = await this.objects.resolve(objectId);
    const entries = doc.is_bundle
      ? (doc.contents ?? []).map((entry) => ({ name: entry.name, id: entry.id }))
      : [{ name: doc.name ?? '', id: doc.id }];
    const problems: FieldProblem[] = [];
    const sources: ImportSource[] = [];
    for (const entry of entries) {
      const collection = collectionOfFileName(entry.name);
      if (!collection) {
        problems.push({
          path: 'object_id',
          message: `${entry.id} is named "${entry.name}", not <collection>.jsonl.gz`,
        });
        continue;
      }
      const member = entry.id === doc.id ? doc : await this.objects.resolve(entry.id);
      if (member.is_bundle) {
        problems.push({ path: 'object_id', message: `${entry.name} (${entry.id}) is a bundle, not a file` });
        continue;
      }
      const blob = await this.objects.blobOf(member);
      if (!blob) {
        problems.push({
          path: 'object_id',
          message: `${entry.name} (${entry.id}) has no bytes stored on this hub`,
        });
        continue;
      }
      sources.push({
        collection,
        name: entry.name,
        size: blob.size,
        open: () => this.objects.readBlob(blob),
      });
    }
    if (problems.length > 0) {
      throw new BadRequestError(
        `Object ${objectId} is not a metadata export this hub can load: ${problems.map((p) => p.message).join('; ')}`,
        { errors: problems, code: 'not_a_metadata_export' },
      );
    }
    this.checkSources(sources);
    return sources;
  }

  /** Every source must name an addressable collection of the schema, each at most once. */
  checkSources(sources: readonly ImportSource[]): void {
    const problems: FieldProblem[] = [];
    const seen = new Set<string>();
    if (sources.length === 0) {
      problems.push({ path: 'source', message: 'holds no <collection>.jsonl.gz file' });
    }
    for (const source of sources) {
      const spec = this.store.collectionSpec(source.collection);
      if (!spec) {
        problems.push({
          path: source.name,
          message: `${source.collection} is not a metadata collection; known: ${this.collections().join(', ')}`,
        });
      } else if (!spec.hasId) {
        problems.push({
          path: source.name,
          message: `${source.collection} holds documents without ids, which cannot be upserted by id`,
        });
      }
      if (seen.has(source.collection)) {
        problems.push({ path: source.name, message: `a second file for ${source.collection}` });
      }
      seen.add(source.collection);
    }
    if (problems.length > 0) {
      throw new BadRequestError(
        `The export cannot be imported: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        { errors: problems, code: 'invalid_import_source' },
      );
    }
  }

  async importObject(objectId: string, signal?: AbortSignal): Promise<ImportSummary> {
    return this.importSources(await this.importSourcesOfObject(objectId), undefined, signal);
  }

  /**
   * Loads files collection by collection: each document is validated on its own (an invalid one is
   * counted and reported, not fatal), valid ones are upserted by id in batches.
   */
  async importSources(
    sources: readonly ImportSource[],
    onProgress?: (progress: ImportProgress) => void,
    signal?: AbortSignal,
  ): Promise<ImportSummary> {
    this.checkSources(sources);
    const totalBytes = sources.reduce((sum, source) => sum + source.size, 0);
    const collections: Record<string, ImportCounts> = {};
    const errors: ImportProblem[] = [];
    let bytesBefore = 0;
    let documents = 0;
    for (const source of sources) {
      const counts = { inserted: 0, updated: 0, invalid: 0 };
      let bytes = 0;
      const counted = new PassThrough();
      counted.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      const raw = source.open();
      raw.on('error', (error) => counted.destroy(error));
      raw.pipe(counted);
      const report = () =>
        onProgress?.({ collection: source.collection, documents, bytes: bytesBefore + bytes, totalBytes });
      let batch: MetadataDoc[] = [];
      const flush = async () => {
        const written = await this.store.upsertValidated(source.collection, batch);
        counts.inserted += written.inserted;
        counts.updated += written.replaced;
        batch = [];
        report();
      };
      const problem = (line: number, path: string, message: string) => {
        if (errors.length < MAX_IMPORT_ERRORS) {
          errors.push({ collection: source.collection, line, path, message });
        }
      };
      try {
        for await (const entry of readGzipJsonLines(counted)) {
          if (signal?.aborted) {
            throw new Error('the import was canceled');
          }
          documents += 1;
          if ('error' in entry) {
            counts.invalid += 1;
            problem(entry.line, '', entry.error);
            continue;
          }
          const found = this.store.validateDocument(source.collection, entry.document);
          if (found.length > 0) {
            counts.invalid += 1;
            found.forEach((each) => problem(entry.line, each.path, each.message));
            continue;
          }
          batch.push(entry.document as MetadataDoc);
          if (batch.length >= IMPORT_BATCH) {
            await flush();
          }
        }
      } catch (error) {
        raw.destroy();
        if (
          error instanceof Error &&
          /incorrect header check|unexpected end of file|invalid/i.test(error.message)
        ) {
          throw new BadRequestError(
            `${source.name} is not a complete gzip file (${error.message}); export it again`,
            {
              errors: [{ path: source.name, message: 'corrupt or truncated gzip data' }],
              code: 'invalid_import_source',
            },
          );
        }
        throw error;
      }
      await flush();
      bytesBefore += bytes;
      collections[source.collection] = counts;
    }
    const sum = (key: keyof ImportCounts) =>
      Object.values(collections).reduce((total, counts) => total + counts[key], 0);
    return {
      inserted: sum('inserted'),
      updated: sum('updated'),
      invalid: sum('invalid'),
      collections,
      errors,
    };
  }
}
