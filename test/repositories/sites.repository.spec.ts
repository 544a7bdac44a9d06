import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SitesRepository, type SiteDoc } from '../../src/sites/sites.repository.js';
import { openRepositoryDb, type RepositoryDb } from './repository-db.js';

function newSite(overrides: Partial<SiteDoc> = {}): SiteDoc {
  const now = new Date();
  return {
    id: `site-${randomUUID()}`,
    capability_ids: ['cap-a'],
    created_by: 'tester',
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

describe('SitesRepository on FerretDB', () => {
  let db: RepositoryDb;
  let sites: SitesRepository;

  beforeAll(async () => {
    db = openRepositoryDb();
    sites = new SitesRepository(db.mongo);
    await db.ready();
  });

  afterAll(async () => {
    await db?.close();
  });

  it('inserts a site once and updates its description and capabilities', async () => {
    const site = newSite({ description: 'first' });
    expect(await sites.insert(site)).toBe(true);
    expect(await sites.insert({ ...site, description: 'second' })).toBe(false);
    expect(await sites.findById(site.id)).toEqual(site);

    const updated = await sites.update(site.id, { description: 'renamed', capability_ids: ['cap-b'] });
    expect(updated).toMatchObject({ id: site.id, description: 'renamed', capability_ids: ['cap-b'] });
    expect(updated!.updated_at.getTime()).toBeGreaterThanOrEqual(site.updated_at.getTime());
    expect(await sites.findById(site.id)).toEqual(updated);
    expect(await sites.update('site-missing', { description: 'x' })).toBeNull();
  });

  it('ensures a site: creates it, then only adds the capabilities it lacks', async () => {
    const site = newSite({ capability_ids: ['cap-a'] });
    await sites.ensure(site);
    expect((await sites.findById(site.id))?.capability_ids).toEqual(['cap-a']);
    await sites.update(site.id, { description: 'kept' });
    await sites.ensure({ ...site, capability_ids: ['cap-a', 'cap-b'], description: 'ignored' });
    expect(await sites.findById(site.id)).toMatchObject({
      capability_ids: ['cap-a', 'cap-b'],
      description: 'kept',
    });
  });

  it('keeps every capability when several processes ensure the same site at once', async () => {
    const site = newSite({ capability_ids: [] });
    await Promise.all(
      ['cap-1', 'cap-2', 'cap-3', 'cap-4'].map((cap) => sites.ensure({ ...site, capability_ids: [cap] })),
    );
    expect((await sites.findById(site.id))?.capability_ids.sort()).toEqual([
      'cap-1',
      'cap-2',
      'cap-3',
      'cap-4',
    ]);
  });

  it('keeps site clients per site, without their secrets in listings', async () => {
    const site = newSite();
    await sites.insert(site);
    const client = {
      id: `client-${randomUUID()}`,
      site_id: site.id,
      secret_hash: 'hash',
      created_by: 'tester',
      created_at: new Date(),
    };
    expect(await sites.insertClient(client)).toBe(true);
    expect(await sites.insertClient({ ...client, site_id: 'site-other' })).toBe(false);
    expect(await sites.findClient(client.id)).toEqual(client);
    const { secret_hash: _hidden, ...listed } = client;
    expect(await sites.listClients(site.id)).toEqual([listed]);
    expect(await sites.deleteClient('site-other', client.id)).toBe(false);
    expect(await sites.deleteClient(site.id, client.id)).toBe(true);
    expect(await sites.findClient(client.id)).toBeNull();
    expect(await sites.listClients(site.id)).toEqual([]);
  });

  it('pages through sites in id order', async () => {
    const first = await sites.findPage({ filter: {}, limit: 2 });
    expect(first).toHaveLength(2);
    const next = await sites.findPage({ filter: {}, limit: 2, after: first[1]!.id });
    expect(next.every((s) => s.id > first[1]!.id)).toBe(true);
  });
});
