import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { MetadataSchema, SchemaLoadError } from './metadata-schema.js';
import { nmdcShaped } from '../../../test/fixtures/metadata-schemas.js';
import { MetadataSchemaRepository } from './metadata-schema.repository.js';

const TERM = {
  has_raw_value: 'soil [ENVO:00001998]',
  term: { id: 'ENVO:00001998', name: 'soil' },
};

const SAMPLE = {
  id: 'nmdc:bsm-11-abcdef12',
  type: 'nmdc:Biosample',
  name: 'core 1',
  associated_studies: ['nmdc:sty-11-abcdef12'],
  env_broad_scale: TERM,
  env_local_scale: TERM,
  env_medium: TERM,
};

describe('MetadataSchema', () => {
  describe('the shipped nmdc-lite schema', () => {
    let schema: MetadataSchema;
    beforeAll(() => {
      schema = new MetadataSchemaRepository().load();
    });

    it('describes the five collections, their classes and typecodes', () => {
      expect(schema.title).toBe('nmdc-lite');
      expect(schema.idPrefix).toBe('nmdc');
      expect(schema.collections().map((c) => [c.name, c.classes.length, c.hasId])).toEqual([
        ['biosample_set', 1, true],
        ['data_generation_set', 2, true],
        ['data_object_set', 1, true],
        ['study_set', 1, true],
        ['workflow_execution_set', 5, true],
      ]);
      expect(schema.classNamed('nmdc:Study')?.typecodes).toEqual(['sty']);
      expect(schema.classNamed('NucleotideSequencing')?.typecodes).toEqual(['dgns', 'omprc']);
      expect(schema.collectionsForId('nmdc:omprc-11-abcdef12')).toEqual(['data_generation_set']);
      expect(schema.collectionsForId('nmdc:wfmgas-11-abcdef12.2')).toEqual(['workflow_execution_set']);
      expect(schema.collectionsForId('other:bsm-11-abcdef12')).toEqual([]);
      expect(schema.collectionsForId('nmdc:zzz-11-abcdef12')).toEqual([]);
    });

    it('knows which slots refer to other documents', () => {
      expect(Object.fromEntries(schema.classNamed('Biosample')?.references ?? [])).toEqual({
        associated_studies: ['sty'],
      });
      expect(schema.classNamed('MetagenomeAssembly')?.references.get('was_informed_by')).toEqual([
        'dgns',
        'dgms',
        'omprc',
      ]);
      const refs = schema.referencesOf('biosample_set', SAMPLE, '/biosample_set/0');
      expect(refs).toEqual([{ path: '/biosample_set/0/associated_studies/0', id: 'nmdc:sty-11-abcdef12' }]);
    });

    it('declares the indexes of the x-indexes annotation', () => {
      expect(schema.collection('biosample_set')?.indexes.map((i) => i.name)).toEqual([
        'type_1',
        'associated_studies_1',
        'env_broad_scale.term.id_1',
      ]);
    });

    it('accepts a valid document', () => {
      expect(schema.validateDocument('biosample_set', SAMPLE)).toEqual([]);
    });

    it('lists every problem of an invalid document with JSON pointers', () => {
      const problems = schema.validateDocument(
        'biosample_set',
        {
          ...SAMPLE,
          id: 'nmdc:sty-11-abcdef12',
          name: undefined,
          depth: 'deep',
          colour: 'brown',
          lat_lon: { latitude: 91, longitude: 0 },
          env_medium: { term: {} },
        },
        '/biosample_set/4',
      );
      expect(problems).toEqual(
        expect.arrayContaining([
          { path: '/biosample_set/4/name', message: 'is required' },
          { path: '/biosample_set/4/colour', message: 'is not a slot of nmdc:Biosample' },
          { path: '/biosample_set/4/depth', message: 'must be object' },
          { path: '/biosample_set/4/lat_lon/latitude', message: 'must be <= 90' },
          { path: '/biosample_set/4/env_medium/term/id', message: 'is required' },
          {
            path: '/biosample_set/4/id',
            message: 'must match the pattern ^(nmdc):bsm-([0-9][a-z]{0,6}[0-9])-([A-Za-z0-9]{1,})$',
          },
        ]),
      );
      expect(problems.some((p) => /null|anyOf/.test(p.message))).toBe(false);
    });

    it('picks the class of a document in a multi-class collection by its type', () => {
      expect(schema.validateDocument('data_generation_set', { id: 'nmdc:dgns-11-abcdef12' }, '/x')).toEqual([
        { path: '/x/type', message: 'is required: one of nmdc:NucleotideSequencing, nmdc:MassSpectrometry' },
      ]);
      const problems = schema.validateDocument('data_generation_set', {
        id: 'nmdc:dgms-11-abcdef12',
        type: 'nmdc:MassSpectrometry',
        analyte_category: 'metabolome',
        associated_studies: ['nmdc:sty-11-abcdef12'],
        has_input: ['nmdc:bsm-11-abcdef12'],
        polarity_mode: 'sideways',
      });
      expect(problems).toEqual([{ path: '/polarity_mode', message: 'must be one of: positive, negative' }]);
    });

    it('refuses a non-object document and an unknown collection', () => {
      expect(schema.validateDocument('study_set', 'a string', '/study_set/0')).toEqual([
        { path: '/study_set/0', message: 'must be a JSON object' },
      ]);
      expect(schema.validateDocument('users', {})).toEqual([
        { path: '/', message: 'users is not a metadata collection' },
      ]);
    });
  });

  describe.each(['2020-12', '07'] as const)(
    'a schema shaped like the published nmdc schema (draft %s)',
    (draft) => {
      const schema = MetadataSchema.fromDocument(nmdcShaped(draft), 'nmdc-shaped');

      it('finds collections at the top level, skipping slots that hold no classes', () => {
        expect(schema.collections().map((c) => [c.name, c.hasId])).toEqual([
          ['data_generation_set', true],
          ['functional_annotation_agg', false],
          ['workflow_execution_set', true],
        ]);
      });

      it('reads typecodes from alternations and versioned patterns', () => {
        expect(schema.collectionsForId('nmdc:omprc-11-abcdef12')).toEqual(['data_generation_set']);
        expect(schema.classNamed('nmdc:MassSpectrometry')?.typecodes).toEqual(['dgms', 'omprc']);
        expect(schema.classNamed('MetagenomeAssembly')?.references.get('was_informed_by')).toEqual([
          'omprc',
          'dgns',
        ]);
        expect(
          schema.validateDocument('workflow_execution_set', {
            id: 'nmdc:wfmgas-11-abcdef12',
            type: 'nmdc:MetagenomeAssembly',
          }),
        ).toEqual([
          {
            path: '/id',
            message:
              'must match the pattern ^(nmdc):wfmgas-([0-9][a-z]{0,6}[0-9])-([A-Za-z0-9]{1,})(\\.[1-9]{1}[0-9]{0,})$',
          },
        ]);
      });

      it('compiles patterns with identity escapes that unicode regular expressions refuse', () => {
        expect(
          schema.validateDocument('data_generation_set', {
            id: 'nmdc:dgns-11-abcdef12',
            type: 'nmdc:NucleotideSequencing',
            alternative_identifiers: ['gold:Gp0#1=2'],
          }),
        ).toEqual([]);
      });
    },
  );

  describe('refuses schemas it cannot use, naming the problem', () => {
    it.each([
      ['a non-object', [], /not a JSON object/],
      [
        'no collections',
        { type: 'object', properties: { a: { type: 'string' } } },
        /no slot of its Database/,
      ],
      ['no properties', { $defs: {} }, /neither \$defs.Database.properties nor top-level properties/],
      [
        'a collection of an undefined class',
        { properties: { x_set: { items: { $ref: '#/$defs/Missing' } } }, $defs: {} },
        /x_set refers to Missing/,
      ],
      [
        'malformed x-indexes',
        {
          properties: { x_set: { items: { $ref: '#/$defs/X' }, 'x-indexes': [{ key: { a: 2 } }] } },
          $defs: { X: { type: 'object', properties: { id: { type: 'string' } } } },
        },
        /direction of a must be 1 or -1/,
      ],
      [
        'an invalid regular expression',
        {
          properties: { x_set: { items: { $ref: '#/$defs/X' } } },
          $defs: { X: { type: 'object', properties: { id: { type: 'string', pattern: '([' } } } },
        },
        /does not compile/,
      ],
    ])('%s', (_name, document, message) => {
      expect(() => MetadataSchema.fromDocument(document, 'test.json')).toThrow(SchemaLoadError);
      expect(() => MetadataSchema.fromDocument(document, 'test.json')).toThrow(message);
    });

    it('a missing or malformed file', () => {
      const dir = mkdtempSync(join(tmpdir(), 'rh-schema-'));
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '{"title": ');
      const files = new MetadataSchemaRepository();
      expect(() => files.load(join(dir, 'absent.json'))).toThrow(/cannot be read/);
      expect(() => files.load(bad)).toThrow(/not valid JSON/);
    });
  });
});
