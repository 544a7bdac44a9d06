import { Inject, Injectable } from '@nestjs/common';

import { NotFoundError } from '../common/errors/domain-errors.js';
import { parseFilter } from '../common/pagination/filter-policy.js';
import { refusingBadRegex } from '../common/pagination/regex-check.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { CapabilityDto, ObjectTypeDto, TriggerDto, WorkflowDto } from './registry.dto.js';
import { RegistryRepository } from './registry.repository.js';
import type {
  CapabilityDoc,
  ObjectTypeDoc,
  RegistrySeed,
  TriggerDoc,
  WorkflowDoc,
} from './registry.types.js';

export const DEFAULT_LEASE_SECONDS = 3600;

const WORKFLOW_FIELDS = [
  'id',
  'name',
  'description',
  'capability_ids',
  'lease_seconds',
  'parallel_claims',
  'created_at',
];
const CAPABILITY_FIELDS = ['id', 'name', 'description', 'created_at'];
const TRIGGER_FIELDS = ['id', 'object_type_id', 'workflow_id', 'created_at'];

const described = <T extends { description?: string }>(doc: T): { description?: string } =>
  doc.description ? { description: doc.description } : {};

export function toWorkflowDto(doc: WorkflowDoc): WorkflowDto {
  return {
    id: doc.id,
    name: doc.name,
    ...described(doc),
    capability_ids: doc.capability_ids,
    lease_seconds: doc.lease_seconds ?? DEFAULT_LEASE_SECONDS,
    parallel_claims: doc.parallel_claims ?? false,
    created_at: doc.created_at.toISOString(),
  };
}

function toCapabilityDto(doc: CapabilityDoc | ObjectTypeDoc): CapabilityDto {
  return { id: doc.id, name: doc.name, ...described(doc), created_at: doc.created_at.toISOString() };
}

function toTriggerDto(doc: TriggerDoc): TriggerDto {
  return {
    id: doc.id,
    object_type_id: doc.object_type_id,
    workflow_id: doc.workflow_id,
    created_at: doc.created_at.toISOString(),
  };
}

/** The read-only registries of workflows, capabilities, object types and triggers. */
@Injectable()
export class RegistryService {
  readonly hubSiteId: string;

  constructor(
    private readonly registry: RegistryRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.hubSiteId = config.auth.hubSiteId;
  }

  async seed(seed: RegistrySeed): Promise<void> {
    await this.registry.upsertAll({
      capabilities: seed.capabilities,
      object_types: seed.object_types,
      workflows: seed.workflows,
      triggers: seed.triggers.map((t) => ({ ...t, id: `${t.object_type_id}--${t.workflow_id}` })),
    });
  }

  async listWorkflows(filter?: string): Promise<WorkflowDto[]> {
    const query = parseFilter(filter, { fields: WORKFLOW_FIELDS });
    return (await refusingBadRegex(() => this.registry.listWorkflows(query))).map(toWorkflowDto);
  }

  async getWorkflow(id: string): Promise<WorkflowDto> {
    return toWorkflowDto(await this.requireWorkflow(id));
  }

  /** The workflow document itself, for services that embed it in jobs. */
  async requireWorkflow(id: string): Promise<WorkflowDoc> {
    const workflow = await this.registry.findWorkflow(id);
    if (!workflow) {
      throw new NotFoundError(`No workflow with id "${id}"; GET /workflows lists them`);
    }
    return workflow;
  }

  async findWorkflow(id: string): Promise<WorkflowDoc | null> {
    return this.registry.findWorkflow(id);
  }

  async workflowObjectTypes(id: string): Promise<ObjectTypeDto[]> {
    await this.requireWorkflow(id);
    const triggers = await this.registry.listTriggers({ workflow_id: id });
    return (await this.registry.findObjectTypes(triggers.map((t) => t.object_type_id))).map(toCapabilityDto);
  }

  async listCapabilities(filter?: string): Promise<CapabilityDto[]> {
    const query = parseFilter(filter, { fields: CAPABILITY_FIELDS });
    return (await refusingBadRegex(() => this.registry.listCapabilities(query))).map(toCapabilityDto);
  }

  async getCapability(id: string): Promise<CapabilityDto> {
    const capability = await this.registry.findCapability(id);
    if (!capability) {
      throw new NotFoundError(`No capability with id "${id}"`);
    }
    return toCapabilityDto(capability);
  }

  async objectTypeWorkflows(objectTypeId: string): Promise<WorkflowDto[]> {
    if (!(await this.registry.findObjectType(objectTypeId))) {
      throw new NotFoundError(`No object type with id "${objectTypeId}"`);
    }
    const triggers = await this.registry.listTriggers({ object_type_id: objectTypeId });
    const workflows = await Promise.all(triggers.map((t) => this.registry.findWorkflow(t.workflow_id)));
    return workflows.filter((w): w is WorkflowDoc => w !== null).map(toWorkflowDto);
  }

  async listTriggers(filter?: string): Promise<TriggerDto[]> {
    const query = parseFilter(filter, { fields: TRIGGER_FIELDS });
    return (await refusingBadRegex(() => this.registry.listTriggers(query))).map(toTriggerDto);
  }

  /** Raw trigger documents, for the sensor that turns typed objects into jobs. */
  triggerDocs(): Promise<TriggerDoc[]> {
    return this.registry.listTriggers();
  }

  async getTrigger(id: string): Promise<TriggerDto> {
    const trigger = await this.registry.findTrigger(id);
    if (!trigger) {
      throw new NotFoundError(`No trigger with id "${id}"`);
    }
    return toTriggerDto(trigger);
  }

  /** Ids of the workflows whose every required capability is among `capabilityIds`. */
  async workflowsClaimableWith(capabilityIds: readonly string[]): Promise<string[]> {
    const have = new Set(capabilityIds);
    return (await this.registry.listWorkflows())
      .filter((w) => w.capability_ids.every((c) => have.has(c)))
      .map((w) => w.id);
  }
}
