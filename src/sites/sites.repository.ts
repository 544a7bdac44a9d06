import { Injectable } from '@nestjs/common';
import type { Collection } from 'mongodb';

import type { SiteClientDoc } from '../auth/accounts.js';
import type { PageQuery } from '../common/pagination/paginator.js';
import { findPage } from '../infra/mongo/find-page.js';
import { insertUnlessDuplicate } from '../infra/mongo/mongo-errors.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { RevisionLog } from '../infra/mongo/revision-log.js';

export interface SiteDoc {
  id: string;
  /** Granted: only these make jobs visible and claimable. */
  capability_ids: string[];
  /** Asked for by the site's own admins; absent in documents written before requests existed. */
  requested_capability_ids?: string[];
  description?: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

@Injectable()
export class SitesRepository {
  private readonly sites: Collection<SiteDoc>;
  private readonly revisions: RevisionLog<SiteDoc>;
  /** Site clients are inserted and deleted, never changed: no read-modify-write to guard. */
  private readonly clients: Collection<SiteClientDoc & { _id: string }>;

  constructor(mongo: MongoService) {
    this.sites = mongo.collection<SiteDoc>('sites');
    this.revisions = new RevisionLog<SiteDoc>(mongo, 'sites');
    this.clients = mongo.collection<SiteClientDoc & { _id: string }>('site_clients');
    mongo.declareIndexes('sites', [{ key: { id: 1 }, name: 'id_unique', unique: true }]);
    mongo.declareIndexes('site_clients', [
      { key: { id: 1 }, name: 'id_unique', unique: true },
      { key: { site_id: 1 }, name: 'site_id' },
    ]);
  }

  insert(site: SiteDoc): Promise<boolean> {
    return this.revisions.insert(site.id, site);
  }

  /** Creates the site if it does not exist; an existing one only gains the capabilities it lacks. */
  async ensure(site: SiteDoc): Promise<void> {
    if (await this.revisions.insert(site.id, site)) {
      return;
    }
    await this.revisions.update(site.id, (current, now) => {
      const missing = site.capability_ids.filter((id) => !current.capability_ids.includes(id));
      return missing.length === 0
        ? null
        : { ...current, capability_ids: [...current.capability_ids, ...missing], updated_at: now };
    });
  }

  findById(id: string): Promise<SiteDoc | null> {
    return this.revisions.read(id);
  }

  async update(
    id: string,
    changes: Partial<Pick<SiteDoc, 'capability_ids' | 'requested_capability_ids' | 'description'>>,
  ): Promise<SiteDoc | null> {
    const result = await this.revisions.update(id, (current, now) => ({
      ...current,
      ...changes,
      updated_at: now,
    }));
    return result?.doc ?? null;
  }

  findPage(query: PageQuery): Promise<SiteDoc[]> {
    return findPage(this.sites, 'id', query);
  }

  async insertClient(client: SiteClientDoc): Promise<boolean> {
    return insertUnlessDuplicate(() => this.clients.insertOne({ ...client, _id: client.id }));
  }

  findClient(clientId: string): Promise<SiteClientDoc | null> {
    return this.clients.findOne({ _id: clientId }, { projection: { _id: 0 } });
  }

  listClients(siteId: string): Promise<SiteClientDoc[]> {
    return this.clients
      .find({ site_id: siteId }, { projection: { _id: 0, secret_hash: 0 } })
      .sort({ created_at: 1 })
      .toArray();
  }

  async deleteClient(siteId: string, clientId: string): Promise<boolean> {
    return (await this.clients.deleteOne({ _id: clientId, site_id: siteId })).deletedCount === 1;
  }
}
