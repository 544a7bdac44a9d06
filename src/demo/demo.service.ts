import { Readable } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { selfUri } from '../drs/drs-render.js';
import { ObjectRegistrationService } from '../drs/object-registration.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { MetadataStore } from '../metadata/metadata-store.service.js';
import { loadRegistrySeed } from '../workflows/registry-seed.js';
import { RegistryService } from '../workflows/registry.service.js';
import {
  demoDocuments,
  demoJobInputBlobs,
  demoReadBlobs,
  type DemoBlob,
  type StoredDemoBlob,
} from './demo-data.js';

/** The workflow the demo site jobs belong to (in the shipped registry; needs the `test` capability). */
const DEMO_JOB_WORKFLOW = 'test';

export interface DemoLoadSummary {
  /** Per collection: documents added now, and documents that were there already (left as they are). */
  readonly collections: Record<string, { added: number; present: number }>;
  /** DRS blobs the demo cites (reads and job inputs); `added` counts the ones stored now. */
  readonly blobs: { readonly added: number; readonly present: number };
  /** Jobs of the `test` workflow for the demo inputs; `added` counts the ones created now. */
  readonly jobs: { readonly added: number; readonly present: number; readonly workflow: string };
}

/**
 * Loads the demo dataset idempotently: a document or blob that exists already is left untouched (so a
 * load after a changesheet walkthrough does not undo its edits), and site jobs are deduplicated by the
 * same unique key the trigger sensor uses.
 */
@Injectable()
export class DemoService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: RegistryService,
    private readonly objects: ObjectRegistrationService,
    private readonly metadata: MetadataStore,
    private readonly jobs: JobsService,
  ) {}

  async load(): Promise<DemoLoadSummary> {
    // The demo's object types and workflow come from the registry; a load before the hub's first start
    // must not depend on the seeder having run.
    await this.registry.seed(await loadRegistrySeed(this.config.registryPath));

    // Same bytes give the same object back ('reuse'); one created during this load is new.
    const started = new Date().toISOString();
    let blobsAdded = 0;
    const store = async (blob: DemoBlob, types: string[] = []): Promise<StoredDemoBlob> => {
      const doc = await this.objects.registerBlobFromStream(
        Readable.from([blob.bytes]),
        { name: blob.name, description: blob.description, mime_type: blob.mimeType, types },
        this.objects.systemRegistrant('demo'),
        'reuse',
      );
      if (doc.created_time >= started) {
        blobsAdded += 1;
      }
      const md5 = doc.checksums.find((c) => c.type === 'md5')?.checksum ?? '';
      return { id: doc.id, size: doc.size, md5, drsUri: selfUri(this.config.http.publicHostname, doc.id) };
    };

    const reads = new Map<number, StoredDemoBlob>();
    for (const [n, blob] of demoReadBlobs()) {
      reads.set(n, await store(blob));
    }
    const jobInputs: StoredDemoBlob[] = [];
    for (const blob of demoJobInputBlobs()) {
      jobInputs.push(await store(blob, [DEMO_JOB_WORKFLOW]));
    }

    const collections: Record<string, { added: number; present: number }> = {};
    for (const [collection, docs] of Object.entries(demoDocuments(reads))) {
      const present = new Set(
        (
          await this.metadata.getDocuments(
            collection,
            docs.map((doc) => String(doc.id)),
          )
        ).map((doc) => String(doc.id)),
      );
      const missing = docs.filter((doc) => !present.has(String(doc.id)));
      const written = await this.metadata.putDocuments(collection, missing, 'insert');
      collections[collection] = { added: written.inserted, present: present.size + written.unchanged };
    }

    const created = await this.jobs.createForTriggers(
      jobInputs.map((input) => ({ workflowId: DEMO_JOB_WORKFLOW, objectId: input.id })),
    );
    return {
      collections,
      blobs: { added: blobsAdded, present: reads.size + jobInputs.length - blobsAdded },
      jobs: {
        added: created.length,
        present: jobInputs.length - created.length,
        workflow: DEMO_JOB_WORKFLOW,
      },
    };
  }
}
