import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, ADMIN_ENV, bearer, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { seed } from './support/metadata.js';

const HIERARCHY = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'examples',
  'nmdc-class-hierarchy.yaml',
);

/** The published nmdc_materialized_patterns.schema.json's shape, cut down to the classes a sample's lineage needs. */
function linkedSchema(): Record<string, unknown> {
  const ref = (name: string) => ({ $ref: `#/$defs/${name}` });
  const id = (codes: string) => ({
    pattern: `^(nmdc):${codes}-([0-9][a-z]{0,6}[0-9])-([A-Za-z0-9]{1,})$`,
    type: 'string',
  });
  const refs = (codes: string) => ({ items: id(codes), type: 'array' });
  const cls = (uri: string, codes: string, slots: Record<string, unknown> = {}) => ({
    additionalProperties: false,
    properties: { id: id(codes), type: { enum: [uri], type: 'string' }, name: { type: 'string' }, ...slots },
    required: ['id', 'type'],
    type: 'object',
  });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'NMDC',
    type: 'object',
    properties: {
      study_set: { items: ref('Study'), type: 'array' },
      biosample_set: { items: ref('Biosample'), type: 'array' },
      material_processing_set: {
        items: { anyOf: [ref('Pooling'), ref('LibraryPreparation')] },
        type: 'array',
      },
      processed_sample_set: { items: ref('ProcessedSample'), type: 'array' },
      data_generation_set: { items: ref('NucleotideSequencing'), type: 'array' },
      data_object_set: { items: ref('DataObject'), type: 'array' },
      workflow_execution_set: { items: ref('MetagenomeAssembly'), type: 'array' },
    },
    $defs: {
      Study: cls('nmdc:Study', 'sty'),
      Biosample: cls('nmdc:Biosample', 'bsm', { associated_studies: refs('sty') }),
      Pooling: cls('nmdc:Pooling', 'poolp', { has_input: refs('(bsm|procsm)'), has_output: refs('procsm') }),
      LibraryPreparation: cls('nmdc:LibraryPreparation', 'libprp', {
        has_input: refs('(bsm|procsm)'),
        has_output: refs('procsm'),
      }),
      ProcessedSample: cls('nmdc:ProcessedSample', 'procsm'),
      NucleotideSequencing: cls('nmdc:NucleotideSequencing', 'dgns', {
        has_input: refs('(bsm|procsm)'),
        has_output: refs('dobj'),
        associated_studies: refs('sty'),
      }),
      DataObject: cls('nmdc:DataObject', 'dobj'),
      MetagenomeAssembly: cls('nmdc:MetagenomeAssembly', 'wfmgas', {
        was_informed_by: refs('dgns'),
        has_input: refs('dobj'),
        has_output: refs('dobj'),
      }),
    },
  };
}

const STUDY = 'nmdc:sty-11-aa000001';
const SAMPLE = 'nmdc:bsm-11-bb000001';
const OTHER_SAMPLE = 'nmdc:bsm-11-bb000002';
const POOLING = 'nmdc:poolp-11-cc000001';
const POOLED = 'nmdc:procsm-11-dd000001';
const LIBRARY_PREP = 'nmdc:libprp-11-ee000001';
const LIBRARY = 'nmdc:procsm-11-dd000002';
const SEQUENCING = 'nmdc:dgns-11-ff000001';
const READS = 'nmdc:dobj-11-gg000001';
const CONTIGS = 'nmdc:dobj-11-gg000002';
const ASSEMBLY = 'nmdc:wfmgas-11-hh000001';
const UNRELATED_SEQUENCING = 'nmdc:dgns-11-ff000009';

/**
 * RuntimeApiUserClient's get_linked_* methods: GET /nmdcschema/linked_instances with ids, one type,
 * hydrate=True (as Python's requests writes it) and max_page_size=9999, reading `resources`.
 */
describe('GET /nmdcschema/linked_instances', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rh-linked-'));
  const schemaPath = join(dir, 'schema.json');
  let hub: TestHub;
  let exact: TestHub;
  let token: string;

  const linked = (on: TestHub, params: Record<string, string | string[]>) => {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        query.append(key, v);
      }
    }
    return on.inject({
      method: 'GET',
      url: `/nmdcschema/linked_instances?${query.toString()}`,
      headers: bearer(token),
    });
  };

  beforeAll(async () => {
    writeFileSync(schemaPath, JSON.stringify(linkedSchema()));
    hub = await startTestHub({
      env: { ...ADMIN_ENV, METADATA_SCHEMA_PATH: schemaPath, METADATA_CLASS_HIERARCHY_PATH: HIERARCHY },
    });
    token = await passwordToken(hub, ADMIN.username, ADMIN.password);
    await seed(hub, {
      study_set: [{ id: STUDY, type: 'nmdc:Study' }],
      biosample_set: [
        { id: SAMPLE, type: 'nmdc:Biosample', associated_studies: [STUDY] },
        { id: OTHER_SAMPLE, type: 'nmdc:Biosample', associated_studies: [STUDY] },
      ],
      processed_sample_set: [
        { id: POOLED, type: 'nmdc:ProcessedSample' },
        { id: LIBRARY, type: 'nmdc:ProcessedSample' },
      ],
      material_processing_set: [
        { id: POOLING, type: 'nmdc:Pooling', has_input: [SAMPLE, OTHER_SAMPLE], has_output: [POOLED] },
        { id: LIBRARY_PREP, type: 'nmdc:LibraryPreparation', has_input: [POOLED], has_output: [LIBRARY] },
      ],
      data_generation_set: [
        {
          id: SEQUENCING,
          type: 'nmdc:NucleotideSequencing',
          has_input: [LIBRARY],
          has_output: [READS],
          associated_studies: [STUDY],
        },
        { id: UNRELATED_SEQUENCING, type: 'nmdc:NucleotideSequencing', associated_studies: [STUDY] },
      ],
      data_object_set: [
        { id: READS, type: 'nmdc:DataObject' },
        { id: CONTIGS, type: 'nmdc:DataObject' },
      ],
      workflow_execution_set: [
        {
          id: ASSEMBLY,
          type: 'nmdc:MetagenomeAssembly',
          was_informed_by: [SEQUENCING],
          has_input: [READS],
          has_output: [CONTIGS],
        },
      ],
    });
    // The same schema without a class hierarchy: types match exactly.
    exact = await startTestHub({ env: { ...ADMIN_ENV, METADATA_SCHEMA_PATH: schemaPath } });
    await seed(exact, {
      study_set: [{ id: STUDY, type: 'nmdc:Study' }],
      biosample_set: [{ id: SAMPLE, type: 'nmdc:Biosample', associated_studies: [STUDY] }],
    });
  });
  afterAll(async () => {
    await exact?.close();
    await hub?.close();
  });

  it('get_linked_data_generation_records_for_biosample: the abstract nmdc:DataGeneration, hydrated', async () => {
    const res = await linked(hub, {
      ids: SAMPLE,
      types: 'nmdc:DataGeneration',
      hydrate: 'True',
      max_page_size: '9999',
    });
    expect(res.statusCode, res.body).toBe(200);
    const { resources, next_page_token } = res.json<{
      resources: Record<string, unknown>[];
      next_page_token?: string;
    }>();
    expect(next_page_token).toBeUndefined();
    // Downstream through the pooling, the library preparation and its library; the study's other
    // sequencing is upstream of nothing the sample made, and the study is upstream of the sample.
    expect(resources).toEqual([
      {
        id: SEQUENCING,
        type: 'nmdc:NucleotideSequencing',
        has_input: [LIBRARY],
        has_output: [READS],
        associated_studies: [STUDY],
        _downstream_of: [SAMPLE],
      },
    ]);
  });

  it('get_linked_pooling_for_biosample and get_linked_library_preparation_for_processed_sample', async () => {
    const pooling = await linked(hub, {
      ids: SAMPLE,
      types: 'nmdc:Pooling',
      hydrate: 'True',
      max_page_size: '9999',
    });
    expect(pooling.json().resources).toEqual([
      expect.objectContaining({
        id: POOLING,
        type: 'nmdc:Pooling',
        has_output: [POOLED],
        _downstream_of: [SAMPLE],
      }),
    ]);
    const prep = await linked(hub, {
      ids: POOLED,
      types: 'nmdc:LibraryPreparation',
      hydrate: 'True',
      max_page_size: '9999',
    });
    expect(prep.json().resources).toEqual([
      expect.objectContaining({ id: LIBRARY_PREP, has_input: [POOLED], _downstream_of: [POOLED] }),
    ]);
  });

  it('both directions, slim by default, several ids, pages with a signed token', async () => {
    const res = await linked(hub, { ids: [READS], max_page_size: '3' });
    expect(res.statusCode, res.body).toBe(200);
    const first = res.json<{ resources: { id: string }[]; next_page_token: string }>();
    expect(first.resources).toHaveLength(3);
    const rest = await linked(hub, { ids: [READS], max_page_size: '100', page_token: first.next_page_token });
    const all = [...first.resources, ...rest.json().resources];
    // Upstream: the sequencing, its library, the preparation, the pool, the pooling, both samples, the
    // study. Downstream: the assembly (its has_input) and what it made.
    expect(all).toEqual(
      expect.arrayContaining([
        { id: SEQUENCING, type: 'nmdc:NucleotideSequencing', _upstream_of: [READS] },
        { id: STUDY, type: 'nmdc:Study', _upstream_of: [READS] },
        { id: OTHER_SAMPLE, type: 'nmdc:Biosample', _upstream_of: [READS] },
        { id: ASSEMBLY, type: 'nmdc:MetagenomeAssembly', _downstream_of: [READS] },
        { id: CONTIGS, type: 'nmdc:DataObject', _downstream_of: [READS] },
      ]),
    );
    expect(all.map((d) => d.id)).not.toContain(UNRELATED_SEQUENCING);
    expect(all.map((d) => d.id)).toEqual([...all.map((d) => d.id)].sort());
    expect(all).toHaveLength(10);

    const two = await linked(hub, { ids: [SAMPLE, OTHER_SAMPLE], types: ['nmdc:Pooling', 'nmdc:Study'] });
    expect(two.json().resources).toEqual([
      { id: POOLING, type: 'nmdc:Pooling', _downstream_of: [SAMPLE, OTHER_SAMPLE] },
      { id: STUDY, type: 'nmdc:Study', _upstream_of: [SAMPLE, OTHER_SAMPLE] },
    ]);
    const forged = await linked(hub, { ids: [READS], page_token: `${first.next_page_token}x` });
    expect(forged.statusCode).toBe(400);
  });

  it('404 for an unknown id or type; without a class hierarchy only exact types match', async () => {
    const missing = await linked(hub, { ids: 'nmdc:bsm-11-zz999999' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().detail).toContain('Some IDs not found: nmdc:bsm-11-zz999999');
    const badType = await linked(hub, { ids: SAMPLE, types: 'nmdc:Nope' });
    expect(badType.statusCode).toBe(404);
    expect(badType.json().detail).toContain('Some types not found: nmdc:Nope');
    expect((await linked(hub, { ids: [] as string[] })).statusCode).toBe(400);

    const abstract = await linked(exact, { ids: SAMPLE, types: 'nmdc:NamedThing' });
    expect(abstract.statusCode).toBe(404);
    expect(abstract.json().detail).toContain('METADATA_CLASS_HIERARCHY_PATH');
    const concrete = await linked(exact, { ids: SAMPLE, types: 'nmdc:Study' });
    expect(concrete.json().resources).toEqual([{ id: STUDY, type: 'nmdc:Study', _upstream_of: [SAMPLE] }]);
  });
});
