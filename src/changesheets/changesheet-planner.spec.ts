import { describe, expect, it } from 'vitest';

import { parseChangesheet } from './changesheet-parser.js';
import { ChangesheetPlanner, type StoredDocument } from './changesheet-planner.js';
import { SlotCatalog } from './slot-catalog.js';

const schema = {
  $defs: {
    Study: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        type: { enum: ['nmdc:Study'] },
        name: { type: 'string' },
        description: { type: 'string' },
        keywords: { type: 'array', items: { type: 'string' } },
        principal_investigator: { $ref: '#/$defs/PersonValue' },
        has_credit_associations: { type: 'array', items: { $ref: '#/$defs/CreditAssociation' } },
        study_category: { $ref: '#/$defs/StudyCategoryEnum' },
      },
    },
    Biosample: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        type: { const: 'nmdc:Biosample' },
        depth: { $ref: '#/$defs/QuantityValue' },
        samp_taxon_id: { type: 'integer' },
        is_control: { type: 'boolean' },
        alternative_identifiers: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }] },
      },
    },
    PersonValue: {
      type: 'object',
      properties: {
        type: { const: 'nmdc:PersonValue' },
        name: { type: 'string' },
        orcid: { type: 'string' },
      },
    },
    CreditAssociation: {
      type: 'object',
      properties: {
        type: { const: 'nmdc:CreditAssociation' },
        applied_roles: { type: 'array', items: { type: 'string' } },
        applies_to_person: { $ref: '#/$defs/PersonValue' },
      },
    },
    QuantityValue: {
      type: 'object',
      properties: { has_numeric_value: { type: 'number' }, has_unit: { type: 'string' } },
    },
    StudyCategoryEnum: { type: 'string', enum: ['research_study', 'consortium'] },
  },
};

const S = 'nmdc:sty-11-aaa111';
const B = 'nmdc:bsm-11-bbb222';

function plan(sheet: string, extraDocs: Array<[string, StoredDocument]> = []) {
  const documents = new Map<string, StoredDocument>([
    [S, { collection: 'study_set', doc: { id: S, type: 'nmdc:Study', name: 'Old', keywords: ['soil'] } }],
    [B, { collection: 'biosample_set', doc: { id: B, type: 'nmdc:Biosample' } }],
    ...extraDocs,
  ]);
  const parsed = parseChangesheet(sheet);
  expect(parsed.problems).toEqual([]);
  const planner = new ChangesheetPlanner({
    catalog: new SlotCatalog(schema),
    documents,
    classOfCollection: (c) => (c === 'study_set' ? 'Study' : undefined),
    validate: (_collection, doc) =>
      doc.name === 'INVALID' ? [{ path: '/name', message: 'name is not allowed to be INVALID' }] : [],
  });
  return planner.plan(parsed.commands);
}

const sheet = (...rows: string[]): string =>
  ['id\taction\tattribute\tvalue', ...rows.map((r) => r.split(' | ').join('\t'))].join('\n');

describe('ChangesheetPlanner', () => {
  it('sets a slot and describes the change as a JSON Patch', () => {
    const { changes, problems } = plan(sheet(`${S} | update | name | New`));
    expect(problems).toEqual([]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      id: S,
      collection: 'study_set',
      before: { name: 'Old' },
      after: { name: 'New' },
      rows: [2],
    });
    expect(changes[0]!.patch).toEqual([{ op: 'replace', path: '/name', value: 'New' }]);
  });

  it('inserts list items once, splitting on |', () => {
    const { changes } = plan(
      sheet(
        `${S} | insert | keywords | soil | water |  | air`.replace(
          ' | soil | water |  | air',
          ' | soil|water||air',
        ),
      ),
    );
    expect(changes[0]!.after.keywords).toEqual(['soil', 'water', 'air']);
  });

  it('removes list items', () => {
    const { changes } = plan(sheet(`${S} | remove items | keywords | soil`));
    expect(changes[0]!.after.keywords).toEqual([]);
  });

  it('unsets a slot', () => {
    const { changes } = plan(sheet(`${S} | remove | name | `));
    expect(changes[0]!.after).not.toHaveProperty('name');
    expect(changes[0]!.patch).toEqual([{ op: 'remove', path: '/name' }]);
  });

  it('coerces numbers, integers and booleans by the slot range', () => {
    const { changes, problems } = plan(
      sheet(
        `${B} | update | depth.has_numeric_value | 2.5`,
        ` |  | depth.has_unit | m`,
        ` |  | samp_taxon_id | 410658`,
        ` |  | is_control | TRUE`,
      ),
    );
    expect(problems).toEqual([]);
    expect(changes[0]!.after).toMatchObject({
      depth: { has_numeric_value: 2.5, has_unit: 'm' },
      samp_taxon_id: 410658,
      is_control: true,
    });
  });

  it('reports values that cannot be coerced, with their rows', () => {
    const { problems } = plan(
      sheet(
        `${B} | update | samp_taxon_id | many`,
        ` |  | depth.has_numeric_value | deep`,
        ` |  | is_control | perhaps`,
      ),
    );
    expect(problems.map((p) => [p.row, p.path])).toEqual([
      [2, 'value'],
      [3, 'value'],
      [4, 'value'],
    ]);
  });

  it('blames a schema problem found after applying on the row that wrote the value', () => {
    const { problems } = plan(
      sheet(
        `${S} | update | description | fine`,
        ` | insert | keywords | peat`,
        ` | update | name | INVALID`,
        ` | update | principal_investigator | v1`,
        `v1 |  | orcid | 12`,
      ),
    );
    expect(problems).toEqual([
      { row: 4, id: S, path: '/name', message: 'name is not allowed to be INVALID' },
    ]);
  });

  it('reports unknown slots and unknown ids', () => {
    const { problems } = plan(
      sheet(
        `${S} | update | colour | red`,
        `nmdc:sty-11-zzz999 | update | name | X`,
        `${S} | update | principal_investigator.shoe_size | 9`,
      ),
    );
    expect(problems).toEqual([
      expect.objectContaining({ row: 2, path: 'attribute', message: 'Study has no slot "colour"' }),
      expect.objectContaining({ row: 3, path: 'id', message: 'no document has the id nmdc:sty-11-zzz999' }),
      expect.objectContaining({ row: 4, path: 'attribute', message: 'PersonValue has no slot "shoe_size"' }),
    ]);
  });

  it('builds objects from variables with their class type and nested lists', () => {
    const { changes, problems } = plan(
      sheet(
        `${S} | insert | has_credit_associations | v1`,
        `v1 |  | applied_roles | Investigation|Methodology`,
        `v1 |  | applies_to_person | v2`,
        `v2 |  | name | Ada`,
      ),
    );
    expect(problems).toEqual([]);
    expect(changes[0]!.after.has_credit_associations).toEqual([
      {
        type: 'nmdc:CreditAssociation',
        applied_roles: ['Investigation', 'Methodology'],
        applies_to_person: { type: 'nmdc:PersonValue', name: 'Ada' },
      },
    ]);
  });

  it('sets an object slot from a variable', () => {
    const { changes } = plan(
      sheet(`${S} | update | principal_investigator | v1`, `v1 |  | name | Ada`, `v1 |  | orcid | 0000`),
    );
    expect(changes[0]!.after.principal_investigator).toEqual({
      type: 'nmdc:PersonValue',
      name: 'Ada',
      orcid: '0000',
    });
  });

  it('refuses insert on a single-valued slot and a plain value for an object slot', () => {
    const { problems } = plan(
      sheet(`${S} | insert | name | X`, `${S} | update | principal_investigator | Ada`),
    );
    expect(problems.map((p) => [p.row, p.path])).toEqual([
      [2, 'action'],
      [3, 'value'],
    ]);
  });

  it('reports schema problems of the result with JSON pointers', () => {
    const { problems } = plan(sheet(`${S} | update | name | INVALID`));
    expect(problems).toEqual([
      expect.objectContaining({ id: S, path: '/name', message: 'name is not allowed to be INVALID', row: 2 }),
    ]);
  });

  it('applies several commands to one document in order and leaves the stored one untouched', () => {
    const stored = { id: S, type: 'nmdc:Study', name: 'Old', keywords: ['soil'] };
    const { changes } = plan(
      sheet(`${S} | update | name | A`, ` |  | name | B`, ` | insert | keywords | x`),
      [[S, { collection: 'study_set', doc: stored }]],
    );
    expect(changes[0]!.after).toMatchObject({ name: 'B', keywords: ['soil', 'x'] });
    expect(stored).toEqual({ id: S, type: 'nmdc:Study', name: 'Old', keywords: ['soil'] });
    expect(changes[0]!.rows).toEqual([2, 3, 4]);
  });

  it('leaves out documents the sheet does not change', () => {
    expect(plan(sheet(`${S} | update | name | Old`)).changes).toEqual([]);
  });

  it('reads a list slot declared with anyOf', () => {
    const { changes } = plan(sheet(`${B} | insert | alternative_identifiers | a|b`));
    expect(changes[0]!.after.alternative_identifiers).toEqual(['a', 'b']);
  });
});
