import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ObjectDoc } from '../../src/drs/object.model.js';
import { ObjectTypesRepository } from '../../src/drs/object-types.repository.js';
import { ObjectsRepository } from '../../src/drs/objects.repository.js';
import { openRepositoryDb, type RepositoryDb } from './repository-db.js';

function newObject(overrides: Partial<ObjectDoc> = {}): ObjectDoc {
  const now = new Date().toISOString();
  return {
    id: `obj-${randomUUID()}`,
    name: 'reads.fastq',
    description: 'raw reads',
    mime_type: 'text/plain',
    size: 42,
    created_time: now,
    updated_time: now,
    version: 1,
    checksums: [{ type: 'sha-256', checksum: randomUUID().replaceAll('-', '') }],
    access_methods: [{ type: 'https', access_url: { url: 'https://data.example.org/reads.fastq' } }],
    child_ids: [],
    depth: 0,
    is_bundle: false,
    aliases: [],
    types: [],
    controlled: false,
    readers: [],
    mgr_site: 'site-a',
    created_by: 'tester',
    ...overrides,
  };
}

describe('ObjectsRepository on FerretDB', () => {
  let db: RepositoryDb;
  let objects: ObjectsRepository;
  let types: ObjectTypesRepository;

  beforeAll(async () => {
    db = openRepositoryDb();
    objects = new ObjectsRepository(db.mongo);
    types = new ObjectTypesRepository(db.mongo);
    await db.ready();
  });

  afterAll(async () => {
    await db?.close();
  });

  it('inserts an object once and reads it back without store fields', async () => {
    const doc = newObject();
    expect(await objects.insert(doc)).toBe(true);
    expect(await objects.insert({ ...doc, name: 'again' })).toBe(false);
    const stored = await objects.findById(doc.id);
    expect(stored).toEqual(doc);
    expect(await objects.findByIds([doc.id, 'obj-missing'])).toEqual([doc]);
    expect(await objects.findById('obj-missing')).toBeNull();
  });

  it('patches fields, unsets others and bumps the version each time', async () => {
    const doc = newObject();
    await objects.insert(doc);
    const patched = await objects.update(doc.id, { description: 'trimmed reads', aliases: ['r1'] }, [
      'mime_type',
    ]);
    expect(patched).toMatchObject({ description: 'trimmed reads', aliases: ['r1'], version: 2 });
    expect(patched).not.toHaveProperty('mime_type');
    expect(patched!.updated_time >= doc.updated_time).toBe(true);
    const again = await objects.update(doc.id, { controlled: true, readers: ['user:alice'] });
    expect(again).toMatchObject({ description: 'trimmed reads', controlled: true, version: 3 });
    expect(await objects.findById(doc.id)).toEqual(again);
    expect(await objects.update('obj-missing', { description: 'x' })).toBeNull();
  });

  it('keeps every one of many concurrent patches', async () => {
    const doc = newObject();
    await objects.insert(doc);
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => objects.update(doc.id, { aliases: [`alias-${i}`] })),
    );
    expect((await objects.findById(doc.id))?.version).toBe(7);
  });

  it('finds objects by type label, and the types they carry are seeded once', async () => {
    const label = `type-${randomUUID().slice(0, 8)}`;
    await types.upsertMany([{ id: label, name: 'Test type' }]);
    await types.upsertMany([{ id: label, name: 'Renamed type', description: 'seeded twice' }]);
    expect(await types.findByIds([label])).toEqual([
      expect.objectContaining({ id: label, name: 'Renamed type', description: 'seeded twice' }),
    ]);

    const labelled = newObject({ types: [label] });
    const other = newObject();
    await objects.insert(labelled);
    await objects.insert(other);
    expect(await objects.findTyped([label], 10)).toEqual([{ id: labelled.id, types: [label] }]);

    await objects.update(other.id, { types: [label] });
    const found = await objects.findTyped([label], 10);
    expect(found.map((o) => o.id)).toEqual([labelled.id, other.id].sort());
    expect(await objects.findTyped([label], 1)).toHaveLength(1);
    expect(await objects.findTyped([], 10)).toEqual([]);
  });

  it('deletes an object once, and its id can be registered again', async () => {
    const doc = newObject();
    await objects.insert(doc);
    expect(await objects.delete(doc.id)).toBe(true);
    expect(await objects.findById(doc.id)).toBeNull();
    expect(await objects.delete(doc.id)).toBe(false);
    expect(await objects.insert({ ...doc, version: 1 })).toBe(true);
    expect((await objects.findById(doc.id))?.version).toBe(1);
  });

  it('lets one object hold a checksum, and frees it on release', async () => {
    const key = `sha-256:${randomUUID()}`;
    expect(await objects.claimChecksums([key], 'obj-first')).toEqual({ claimed: true });
    expect(await objects.claimChecksums([`md5:${randomUUID()}`, key], 'obj-second')).toEqual({
      claimed: false,
      holder: 'obj-first',
      key,
    });
    await objects.releaseChecksums([key], 'obj-second');
    expect(await objects.claimChecksums([key], 'obj-second')).toMatchObject({ claimed: false });
    await objects.releaseChecksums([key], 'obj-first');
    expect(await objects.claimChecksums([key], 'obj-second')).toEqual({ claimed: true });
  });
});
