import { Injectable } from '@nestjs/common';

import type { Principal } from '../auth/principal.js';
import { NotFoundError } from '../common/errors/domain-errors.js';
import type { Page } from '../common/pagination/list-request.dto.js';
import type { AccessUrlDto } from '../drs/drs.dto.js';
import { DrsService } from '../drs/drs.service.js';
import type { MetadataDoc } from '../metadata/metadata.repository.js';
import { MetadataService } from '../metadata/metadata.service.js';
import { MetadataStore, unprocessable } from '../metadata/metadata-store.service.js';
import { NMDC_MAX_PAGE_SIZE, type NmdcCollectionNameDto, type NmdcListRequestDto, type NmdcMessageDto } from './nmdc.dto.js';

/** NMDC's routes, answered by the hub's own services in NMDC's shapes. */
@Injectable()
export class NmdcService {
  constructor(
    private readonly metadata: MetadataService,
    private readonly store: MetadataStore,
    private readonly drs: DrsService,
  ) {}

  collectionNames(): string[] {
    return this.store.schema.collections().map((c) => c.name);
  }

  list(collection: string, request: NmdcListRequestDto): Promise<Page<Partial<MetadataDoc>>> {
    const size = request.max_page_size;
    return this.metadata.list(collection, {
      ...request,
      max_page_size: size === undefined ? undefined : size === 0 ? NMDC_MAX_PAGE_SIZE : size,
    });
  }

  get(collection: string, id: string, projection?: string): Promise<MetadataDoc> {
    return this.metadata.get(collection, id, projection);
  }

  async getById(id: string): Promise<MetadataDoc> {
    return (await this.locate(id)).document;
  }

  async collectionNameOf(id: string): Promise<NmdcCollectionNameDto> {
    return { id, collection_name: (await this.locate(id)).collection };
  }

  /**
   * NMDC's `POST /workflows/workflow_executions`: a Database with workflow executions, checked like a
   * JSON submission and inserted at once (not through a job, so the caller can report its operation done
   * right after).
   */
  async insertWorkflowExecutions(payload: Record<string, unknown>, _principal: Principal): Promise<NmdcMessageDto> {
    const { batch } = await this.store.validateSubmission(payload);
    if (!batch.has('workflow_execution_set')) {
      throw unprocessable('The payload must include a workflow_execution_set', [
        { path: '/workflow_execution_set', message: 'is required' },
      ]);
    }
    const results = await this.store.putBatch(batch, 'insert');
    const inserted = Object.values(results).reduce((sum, r) => sum + r.inserted, 0);
    return { message: `Inserted ${inserted} documents` };
  }

  accessUrl(objectId: string, accessId: string, principal: Principal | undefined): Promise<AccessUrlDto> {
    return this.drs.getAccessUrl(objectId, accessId, principal);
  }

  private async locate(id: string): Promise<{ collection: string; document: MetadataDoc }> {
    const found = await this.store.findDocument(id);
    if (!found) {
      throw new NotFoundError(`No document has id ${id}`);
    }
    return found;
  }
}
