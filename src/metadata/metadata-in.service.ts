import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';

import { Inject, Injectable } from '@nestjs/common';

import { describePrincipal, type Principal, type SitePrincipal } from '../auth/principal.js';
import { DomainError, ServiceUnavailableError, UnprocessableError } from '../common/errors/domain-errors.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ObjectsService } from '../drs/objects.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { OperationsService } from '../operations/operations.service.js';
import {
  METADATA_IN_WORKFLOW,
  type MetadataIn,
  type MetadataInResult,
  type OperationFailure,
  type PendingMetadataIn,
} from '../site/metadata-in.js';
import type { SubmissionAcceptedDto } from './metadata.dto.js';
import { MetadataStore } from './metadata-store.service.js';

/** The DRS object type a JSON submission is stored as; its trigger starts metadata-in-1.0.0. */
export const METADATA_IN_TYPE = 'metadata-in';

/**
 * JSON submissions: `json:submit` checks a payload, stores it as a DRS blob typed `metadata-in` and
 * creates its metadata-in-1.0.0 job; the orchestrator's `apply_metadata_in` then claims the job as the
 * hub's own site and applies the payload through the methods of {@link MetadataIn}.
 */
@Injectable()
export class MetadataInService implements MetadataIn {
  private readonly hub: SitePrincipal;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly store: MetadataStore,
    private readonly objects: ObjectsService,
    private readonly jobs: JobsService,
    private readonly operations: OperationsService,
  ) {
    // The hub reports on its own claims as its site, like any site would.
    this.hub = {
      kind: 'site',
      siteId: config.auth.hubSiteId,
      clientId: `hub:${config.auth.hubSiteId}`,
      tokenId: 'hub',
      tokenExpiresAt: new Date(8.64e15),
    };
  }

  async submit(payload: unknown, principal: Principal): Promise<SubmissionAcceptedDto> {
    const { counts } = await this.store.validateSubmission(payload);
    const summary = Object.entries(counts)
      .map(([collection, n]) => `${n} ${collection}`)
      .join(', ');
    const object = await this.objects.registerBlobFromStream(
      Readable.from([Buffer.from(JSON.stringify(payload), 'utf8')]),
      {
        name: `metadata-in-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
        description: `JSON metadata submission (${summary || 'no documents'}) by ${describePrincipal(principal)}`,
        mime_type: 'application/json',
        types: [METADATA_IN_TYPE],
      },
      this.objects.registrantFor(principal),
      // The same bytes submitted again (before being applied) lead back to the same object and job.
      'reuse',
    );
    return { object_id: object.id, job_id: await this.jobFor(object.id), counts };
  }

  async pendingJobs(limit: number): Promise<PendingMetadataIn[]> {
    const jobs = await this.jobs.claimableJobs(this.hub.siteId, [METADATA_IN_WORKFLOW], limit);
    return jobs
      .filter((job) => typeof job.config.object_id === 'string')
      .map((job) => ({ jobId: job.id, objectId: job.config.object_id as string }));
  }

  async claim(jobId: string): Promise<{ operationId: string }> {
    const { operation } = await this.jobs.claim(jobId, this.hub.siteId);
    return { operationId: operation.id };
  }

  async check(objectId: string): Promise<Record<string, number>> {
    return (await this.store.recheckSubmission(await this.read(objectId))).counts;
  }

  async apply(objectId: string): Promise<MetadataInResult> {
    const results = await this.store.applySubmission(await this.read(objectId));
    return Object.fromEntries(
      Object.entries(results).map(([collection, r]) => [
        collection,
        { inserted: r.inserted, unchanged: r.unchanged },
      ]),
    );
  }

  async finish(
    operationId: string,
    outcome: { result: unknown } | { error: OperationFailure },
  ): Promise<void> {
    // A run resumed after its worker died may finish an operation the first attempt already closed.
    if ((await this.operations.get(operationId)).done) {
      return;
    }
    await this.operations.patch(operationId, this.hub, { done: true, ...outcome });
  }

  describeFailure(error: unknown): OperationFailure {
    if (error instanceof DomainError) {
      return {
        code: error.code,
        message: error.message,
        ...(error.errors && error.errors.length > 0 ? { details: error.errors } : {}),
      };
    }
    return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
  }

  private async read(objectId: string): Promise<unknown> {
    const blob = await this.objects.describeBlob(objectId);
    const body = await text(this.objects.readBlob(blob));
    try {
      return JSON.parse(body) as unknown;
    } catch (error) {
      throw new UnprocessableError(`Object ${objectId} is not JSON: ${(error as Error).message}`);
    }
  }

  private async jobFor(objectId: string): Promise<string> {
    const [created] = await this.jobs.createForTriggers([{ workflowId: METADATA_IN_WORKFLOW, objectId }]);
    if (created) {
      return created;
    }
    const existing = await this.jobs.list(
      {
        filter: JSON.stringify({ 'workflow.id': METADATA_IN_WORKFLOW, 'config.object_id': objectId }),
        max_page_size: 1,
      },
      undefined,
    );
    const id = existing.resources[0]?.id;
    if (!id) {
      throw new ServiceUnavailableError(
        `The job for object ${objectId} could not be created (is workflow ${METADATA_IN_WORKFLOW} in the registry?); retry`,
      );
    }
    return id;
  }
}
