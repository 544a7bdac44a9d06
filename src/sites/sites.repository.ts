import { Injectable } from '@nestjs/common';
import type { Collection, Filter } from 'mongodb';

import type { PageQuery } from '../common/pagination/paginator.js';
import { findPage } from '../infra/mongo/find-page.js';
import { findByKey, type Keyed, keyedBy, writeByKey } from '../infra/mongo/keyed-by-id.js';
import { insertUnlessDuplicate, isDuplicateKeyError, withoutMongoId } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';

export interface SiteDoc {
  id: string;
  capability_ids: string[];
  description?: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export interface SiteClientDoc {
  id: string;
  site_id: string;
  secret_hash: string;
  created_by: string;
  created_at: Date;
}

@Injectable()
export class SitesRepository {
  private readonly sites: Collection<Keyed<SiteDoc>>;
  private readonly clients: Collection<Keyed<SiteClientDoc>>;

  constructor(mongo: MongoService) {
    this.sites = mongo.collection<Keyed<SiteDoc>>('sites');
    this.clients = mongo.collection<Keyed<SiteClientDoc>>('site_clients');
    mongo.declareIndexes('sites', [{ key: { id: 1 }, name: 'id_unique', unique: true }]);
    mongo.declareIndexes('site_clients', [
      { key: { id: 1 }, name: 'id_unique', unique: true },
      { key: { site_id: 1 }, name: 'site_id' },
    ]);
  }

  async insert(site: SiteDoc): Promise<boolean> {
    return insertUnlessDuplicate(() => this.sites.insertOne(keyedBy(site.id, site)));
  }

  /** Creates the site if it does not exist; an existing one only gains the capabilities it lacks. */
  async ensure(site: SiteDoc): Promise<void> {
    const { capability_ids: capabilities, ...rest } = site;
    const addCapabilities = { $addToSet: { capability_ids: { $each: capabilities } } };
    try {
      await this.sites.updateOne(
        { _id: site.id },
        { $setOnInsert: rest, ...addCapabilities },
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKeyError(error)) {
        throw error;
      }
      // Stored before ids became keys: the site exists under a generated _id.
      await this.sites.updateOne({ id: site.id }, addCapabilities);
    }
  }

  findById(id: string): Promise<SiteDoc | null> {
    return findByKey('id', id, {}, (filter) =>
      this.sites.findOne(filter as Filter<Keyed<SiteDoc>>, { projection: { _id: 0 } }),
    );
  }

  async update(
    id: string,
    changes: Partial<Pick<SiteDoc, 'capability_ids' | 'description'>>,
  ): Promise<SiteDoc | null> {
    const updated = await findByKey('id', id, {}, (filter) =>
      this.sites.findOneAndUpdate(
        filter as Filter<Keyed<SiteDoc>>,
        { $set: { ...changes, updated_at: new Date() } },
        { returnDocument: 'after' },
      ),
    );
    return withoutMongoId(updated);
  }

  findPage(query: PageQuery): Promise<SiteDoc[]> {
    return findPage(this.sites, 'id', query);
  }

  async insertClient(client: SiteClientDoc): Promise<boolean> {
    return insertUnlessDuplicate(() => this.clients.insertOne(keyedBy(client.id, client)));
  }

  findClient(clientId: string): Promise<SiteClientDoc | null> {
    return findByKey('id', clientId, {}, (filter) =>
      this.clients.findOne(filter as Filter<Keyed<SiteClientDoc>>, { projection: { _id: 0 } }),
    );
  }

  listClients(siteId: string): Promise<SiteClientDoc[]> {
    return this.clients
      .find({ site_id: siteId }, { projection: { _id: 0, secret_hash: 0 } })
      .sort({ created_at: 1 })
      .toArray();
  }

  async deleteClient(siteId: string, clientId: string): Promise<boolean> {
    const deleted = await writeByKey('id', clientId, { site_id: siteId }, async (filter) => {
      return (await this.clients.deleteOne(filter)).deletedCount;
    });
    return deleted === 1;
  }
}
