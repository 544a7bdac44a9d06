import { Injectable } from '@nestjs/common';
import type { Collection, Document, Filter } from 'mongodb';

import { seedEntries } from '../infra/mongo/bulk-writes.js';
import { MongoService } from '../infra/mongo/mongo.service.js';

export interface ObjectTypeDoc {
  id: string;
  name?: string;
  description?: string;
  created_at: Date;
}

/** What a seed declares; `created_at` is set when the type first appears. */
export type ObjectTypeSeed = Omit<ObjectTypeDoc, 'created_at'>;

/**
 * Object types label DRS objects (`metadata-changesheet`, `metadata-in`, …) so sensors can find the
 * objects a workflow should act on. Features seed the types they use with {@link upsertMany}.
 */
@Injectable()
export class ObjectTypesRepository {
  private readonly types: Collection<ObjectTypeDoc>;

  constructor(mongo: MongoService) {
    this.types = mongo.collection<ObjectTypeDoc>('object_types');
    mongo.declareIndexes('object_types', [{ key: { id: 1 }, name: 'id_unique', unique: true }]);
  }

  /** Creates missing types and refreshes the name and description of existing ones; safe in N processes at once. */
  async upsertMany(seeds: readonly ObjectTypeSeed[]): Promise<void> {
    if (seeds.length === 0) {
      return;
    }
    await seedEntries(this.types as unknown as Collection<Document>, seeds, new Date(), (seed) => ({
      ...(seed.name !== undefined ? { name: seed.name } : {}),
      ...(seed.description !== undefined ? { description: seed.description } : {}),
    }));
  }

  /** `filter` has passed the list filter policy (allow-listed operators on documented fields). */
  list(filter: Record<string, unknown> = {}): Promise<ObjectTypeDoc[]> {
    return this.types
      .find(filter as Filter<ObjectTypeDoc>, { projection: { _id: 0 } })
      .sort({ id: 1 })
      .toArray();
  }

  findByIds(ids: readonly string[]): Promise<ObjectTypeDoc[]> {
    if (ids.length === 0) {
      return Promise.resolve([]);
    }
    return this.types
      .find({ id: { $in: [...ids] } }, { projection: { _id: 0 } })
      .sort({ id: 1 })
      .toArray();
  }
}
