import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';

import { Injectable } from '@nestjs/common';

import { AuthService } from '../auth/auth.service.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import {
  ForbiddenError,
  ServiceUnavailableError,
  UnprocessableError,
} from '../common/errors/domain-errors.js';
import { ObjectReadsService } from '../drs/object-reads.service.js';
import { ObjectRegistrationService } from '../drs/object-registration.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { HubSiteService } from '../jobs/hub-site.service.js';
import { METADATA_IN_WORKFLOW, type MetadataInResult } from '../site/metadata-in.js';
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
export class MetadataInService {
  constructor(
    private readonly store: MetadataStore,
    private readonly objects: ObjectReadsService,
    private readonly registration: ObjectRegistrationService,
    private readonly jobs: JobsService,
    private readonly hubSite: HubSiteService,
    private readonly auth: AuthService,
  ) {}

  async submit(payload: unknown, principal: Principal): Promise<SubmissionAcceptedDto> {
    const { counts } = await this.store.validateSubmission(payload);
    const summary = Object.entries(counts)
      .map(([collection, n]) => `${n} ${collection}`)
      .join(', ');
    const object = await this.registration.registerBlobFromStream(
      Readable.from([Buffer.from(JSON.stringify(payload), 'utf8')]),
      {
        name: `metadata-in-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
        description: `JSON metadata submission (${summary || 'no documents'}) by ${describePrincipal(principal)}`,
        mime_type: 'application/json',
        types: [METADATA_IN_TYPE],
      },
      this.registration.registrantFor(principal),
      // The same bytes submitted again (before being applied) lead back to the same object and job.
      'reuse',
    );
    const jobId = await this.jobFor(object.id);
    return { object_id: object.id, job_id: jobId, counts, type: 'success', detail: { run_id: jobId } };
  }

  async check(objectId: string): Promise<Record<string, number>> {
    return (await this.store.recheckSubmission(await this.read(objectId))).counts;
  }

  async apply(objectId: string): Promise<MetadataInResult> {
    // Registering an object is open to every site client; writing metadata is not.
    const object = await this.objects.load(objectId);
    if (object && !(await this.auth.registrantHolds(object.created_by, 'json:submit'))) {
      throw new ForbiddenError(
        `Submission ${objectId} was registered by ${object.created_by}, who does not hold the "json:submit" allowance; it is not applied`,
      );
    }
    const results = await this.store.applySubmission(await this.read(objectId));
    return Object.fromEntries(
      Object.entries(results).map(([collection, r]) => [
        collection,
        { inserted: r.inserted, unchanged: r.unchanged },
      ]),
    );
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
    const existing = await this.hubSite.jobForObject(METADATA_IN_WORKFLOW, objectId);
    if (!existing) {
      throw new ServiceUnavailableError(
        `The job for object ${objectId} could not be created (is workflow ${METADATA_IN_WORKFLOW} in the registry?); retry`,
      );
    }
    return existing.id;
  }
}
