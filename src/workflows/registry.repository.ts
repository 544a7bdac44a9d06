import { Injectable } from '@nestjs/common';
import type { Collection, Document, Filter } from 'mongodb';

import { seedEntries } from '../infra/mongo/bulk-writes.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import type { CapabilityDoc, ObjectTypeDoc, TriggerDoc, WorkflowDoc } from './registry.types.js';

const NO_ID = { projection: { _id: 0 } } as const;

@Injectable()
export class RegistryRepository {
  private readonly capabilities: Collection<CapabilityDoc>;
  private readonly objectTypes: Collection<ObjectTypeDoc>;
  private readonly workflows: Collection<WorkflowDoc>;
  private readonly triggers: Collection<TriggerDoc>;

  constructor(mongo: MongoService) {
    this.capabilities = mongo.collection('capabilities');
    this.objectTypes = mongo.collection('object_types');
    this.workflows = mongo.collection('workflows');
    this.triggers = mongo.collection('triggers');
    for (const name of ['capabilities', 'object_types', 'workflows', 'triggers']) {
      mongo.declareIndexes(name, [{ key: { id: 1 }, name: 'id_unique', unique: true }]);
    }
    mongo.declareIndexes('triggers', [{ key: { object_type_id: 1 }, name: 'object_type_id' }]);
  }

  /** Creates or updates each entry by id, keeping the original creation time; safe in N processes at once. */
  async upsertAll(seed: {
    capabilities: Omit<CapabilityDoc, 'created_at'>[];
    object_types: Omit<ObjectTypeDoc, 'created_at'>[];
    workflows: Omit<WorkflowDoc, 'created_at'>[];
    triggers: Omit<TriggerDoc, 'created_at'>[];
  }): Promise<void> {
    const now = new Date();
    const upsert = (collection: Collection<Document>, entries: { id: string }[]): Promise<void> =>
      seedEntries(collection, entries, now, (entry) => ({ ...entry }));
    await upsert(this.capabilities as unknown as Collection<Document>, seed.capabilities);
    await upsert(this.objectTypes as unknown as Collection<Document>, seed.object_types);
    await upsert(this.workflows as unknown as Collection<Document>, seed.workflows);
    await upsert(this.triggers as unknown as Collection<Document>, seed.triggers);
  }

  /** Each list's `filter` has passed the list filter policy (allow-listed operators, documented fields). */
  listWorkflows(filter: Record<string, unknown> = {}): Promise<WorkflowDoc[]> {
    return this.workflows
      .find(filter as Filter<WorkflowDoc>, NO_ID)
      .sort({ id: 1 })
      .toArray();
  }

  findWorkflow(id: string): Promise<WorkflowDoc | null> {
    return this.workflows.findOne({ id }, NO_ID);
  }

  listCapabilities(filter: Record<string, unknown> = {}): Promise<CapabilityDoc[]> {
    return this.capabilities
      .find(filter as Filter<CapabilityDoc>, NO_ID)
      .sort({ id: 1 })
      .toArray();
  }

  findCapability(id: string): Promise<CapabilityDoc | null> {
    return this.capabilities.findOne({ id }, NO_ID);
  }

  findObjectTypes(ids: string[]): Promise<ObjectTypeDoc[]> {
    return this.objectTypes
      .find({ id: { $in: ids } }, NO_ID)
      .sort({ id: 1 })
      .toArray();
  }

  findObjectType(id: string): Promise<ObjectTypeDoc | null> {
    return this.objectTypes.findOne({ id }, NO_ID);
  }

  listTriggers(filter: Record<string, unknown> = {}): Promise<TriggerDoc[]> {
    return this.triggers
      .find(filter as Filter<TriggerDoc>, NO_ID)
      .sort({ id: 1 })
      .toArray();
  }

  findTrigger(id: string): Promise<TriggerDoc | null> {
    return this.triggers.findOne({ id }, NO_ID);
  }
}
