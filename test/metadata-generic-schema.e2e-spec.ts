import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, ADMIN_ENV, bearer, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { seed } from './support/metadata.js';
import { nmdcGeneric } from './fixtures/metadata-schemas.js';

const STUDY = 'nmdc:sty-11-aaaa0001';
const SAMPLE = 'nmdc:bsm-11-bbbb0001';
const MISSING_STUDY = 'nmdc:sty-11-zzzz9999';

/** A schema shaped like the published nmdc.schema.json: one generic id pattern, no typecodes. */
describe('a metadata schema without typecodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rh-generic-schema-'));
  const schemaPath = join(dir, 'nmdc.schema.json');
  let hub: TestHub;
  let admin: string;

  const sample = (id: string, studies: string[], extra: Record<string, unknown> = {}) => ({
    id,
    type: 'nmdc:Biosample',
    name: `Sample ${id}`,
    associated_studies: studies,
    ...extra,
  });
  const validate = (payload: unknown, query = '') =>
    hub.inject({
      method: 'POST',
      url: `/metadata/json:validate${query}`,
      payload: payload as Record<string, unknown>,
    });

  beforeAll(async () => {
    writeFileSync(schemaPath, JSON.stringify(nmdcGeneric()));
    hub = await startTestHub({ env: { ...ADMIN_ENV, METADATA_SCHEMA_PATH: schemaPath } });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    await seed(hub, {
      study_set: [{ id: STUDY, type: 'nmdc:Study', name: 'A study' }],
      biosample_set: [sample(SAMPLE, [STUDY])],
    });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('finds a document by id alone, in whichever collection holds it', async () => {
    for (const [id, collection] of [
      [STUDY, 'study_set'],
      [SAMPLE, 'biosample_set'],
    ]) {
      const res = await hub.inject({ method: 'GET', url: `/metadata/ids/${id}` });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().id).toBe(id);
      const named = await hub.inject({ method: 'GET', url: `/nmdcschema/ids/${id}/collection-name` });
      expect(named.json()).toEqual({ id, collection_name: collection });
    }
    expect((await hub.inject({ method: 'GET', url: `/metadata/ids/${MISSING_STUDY}` })).statusCode).toBe(404);
  });

  it('checks references in plain string slots, unless check_references=false', async () => {
    const good = await validate({ biosample_set: [sample('nmdc:bsm-11-bbbb0002', [STUDY])] });
    expect(good.statusCode, good.body).toBe(200);
    const dangling = await validate({
      biosample_set: [
        sample('nmdc:bsm-11-bbbb0003', [MISSING_STUDY], { alternative_identifiers: ['gold:Gb0115231'] }),
      ],
    });
    expect(dangling.json()).toMatchObject({ valid: false, result: 'errors' });
    expect(dangling.json().errors).toEqual([
      {
        path: '/biosample_set/0/associated_studies/0',
        message: `refers to ${MISSING_STUDY}, which is neither in this submission nor stored in any collection`,
      },
    ]);
    const schemaOnly = await validate(
      { biosample_set: [sample('nmdc:bsm-11-bbbb0003', [MISSING_STUDY])] },
      '?check_references=false',
    );
    expect(schemaOnly.statusCode, schemaOnly.body).toBe(200);
    // A reference to a document in the same payload resolves.
    const together = await validate({
      study_set: [{ id: MISSING_STUDY, type: 'nmdc:Study' }],
      biosample_set: [sample('nmdc:bsm-11-bbbb0004', [MISSING_STUDY])],
    });
    expect(together.statusCode, together.body).toBe(200);
  });

  it('validates a changesheet on a stored document', async () => {
    const res = await hub.inject({
      method: 'POST',
      url: '/metadata/changesheets:validate',
      headers: { ...bearer(admin), 'content-type': 'text/tab-separated-values' },
      payload: `id\taction\tattribute\tvalue\n${SAMPLE}\tupdate\tname\tRenamed sample\n`,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().changes).toEqual([
      expect.objectContaining({
        id: SAMPLE,
        collection: 'biosample_set',
        after: expect.objectContaining({ name: 'Renamed sample' }),
      }),
    ]);
  });
});
