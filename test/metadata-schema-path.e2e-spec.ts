import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { nmdcShaped } from './fixtures/metadata-schemas.js';

describe('METADATA_SCHEMA_PATH', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rh-schema-'));
  const schemaPath = join(dir, 'nmdc.schema.json');
  let hub: TestHub;

  beforeAll(async () => {
    const schema = nmdcShaped('2020-12');
    // The published schema declares no indexes; one here shows the annotation is honoured from any file.
    (schema.properties as Record<string, Record<string, unknown>>).data_generation_set!['x-indexes'] = [
      { key: { has_input: 1 }, name: 'inputs' },
    ];
    writeFileSync(schemaPath, JSON.stringify(schema));
    hub = await startTestHub({ env: { ...ADMIN_ENV, METADATA_SCHEMA_PATH: schemaPath } });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('serves the collections of the schema it names instead of the shipped ones', async () => {
    const res = await hub.inject({ method: 'GET', url: '/metadata/collections' });
    expect(res.json().schema).toBe('NMDC 11.0.0');
    expect(res.json().resources.map((c: { name: string }) => c.name)).toEqual([
      'data_generation_set',
      'functional_annotation_agg',
      'workflow_execution_set',
    ]);
    expect((await hub.inject({ method: 'GET', url: '/metadata/study_set' })).statusCode).toBe(400);
    const indexes = await hub.app
      .get(MongoService)
      .db.collection('data_generation_set')
      .listIndexes()
      .toArray();
    expect(indexes.map((i) => i.name)).toEqual(expect.arrayContaining(['id_unique', 'inputs']));
  });

  it('mints with the typecodes of that schema and validates against it', async () => {
    const admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    const site = await createSiteWithClient(hub, admin, 'schema-site');
    const minted = await hub.inject({
      method: 'POST',
      url: '/pids/mint',
      headers: bearer(site.token),
      payload: { schema_class: { id: 'nmdc:MassSpectrometry' } },
    });
    const [id] = minted.json<string[]>();
    expect(id).toMatch(/^nmdc:dgms-11-/);
    const valid = await hub.inject({
      method: 'POST',
      url: '/metadata/json:validate',
      payload: {
        data_generation_set: [{ id, type: 'nmdc:MassSpectrometry' }],
        functional_annotation_agg: [{ count: 3, type: 'nmdc:FunctionalAnnotationAggMember' }],
      },
    });
    expect(valid.statusCode).toBe(200);
    const invalid = await hub.inject({
      method: 'POST',
      url: '/metadata/json:validate',
      payload: { functional_annotation_agg: [{ count: 'many' }] },
    });
    expect(invalid.json().errors).toEqual([
      { path: '/functional_annotation_agg/0/count', message: 'must be integer' },
    ]);
  });

  it('refuses to start on a schema it cannot use, naming the file and the problem', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(
      broken,
      JSON.stringify({ properties: { x_set: { items: { $ref: '#/$defs/Nope' } } }, $defs: {} }),
    );
    await expect(startTestHub({ env: { METADATA_SCHEMA_PATH: broken } })).rejects.toThrow(
      `The metadata schema ${broken} cannot be used: collection x_set refers to Nope, which is not defined`,
    );
    await expect(startTestHub({ env: { METADATA_SCHEMA_PATH: join(dir, 'absent.json') } })).rejects.toThrow(
      /cannot be read/,
    );
  });
});
