import { describe, expect, it } from 'vitest';

import { parseChangesheet, type ChangeCommand, type RawValue } from './changesheet-parser.js';

const tsv = (...lines: string[]): string => lines.map((l) => l.replace(/ *\| */g, '\t')).join('\n');
const HEADER = 'id | action | attribute | value';
const S = 'nmdc:sty-11-aaa111';
const B = 'nmdc:bsm-11-bbb222';

type Expected = Partial<Pick<ChangeCommand, 'id' | 'action' | 'row'>> & { path?: string; value?: unknown };

function simplify(value: RawValue): unknown {
  if (typeof value === 'string') {
    return value;
  }
  return Object.fromEntries(value.fields.map((f) => [f.path.join('.'), simplify(f.value)]));
}

interface Case {
  name: string;
  sheet: string;
  hint?: 'tsv' | 'csv';
  commands?: Expected[];
  problems?: Array<{ row?: number; path?: string; message: RegExp }>;
}

const cases: Case[] = [
  {
    name: 'a single update',
    sheet: tsv(HEADER, `${S} | update | name | New name`),
    commands: [{ id: S, action: 'set', path: 'name', value: 'New name', row: 2 }],
  },
  { name: 'set is update', sheet: tsv(HEADER, `${S} | set | name | X`), commands: [{ action: 'set' }] },
  {
    name: 'replace is update',
    sheet: tsv(HEADER, `${S} | replace | name | X`),
    commands: [{ action: 'set' }],
  },
  {
    name: 'replace items is update',
    sheet: tsv(HEADER, `${S} | replace items | keywords | a|b`.replace('a|b', 'a\u0000b')).replace(
      '\u0000',
      '|',
    ),
    commands: [{ action: 'set', value: 'a|b' }],
  },
  {
    name: 'insert',
    sheet: tsv(HEADER, `${S} | insert | keywords | soil`),
    commands: [{ action: 'insert', value: 'soil' }],
  },
  {
    name: 'insert item',
    sheet: tsv(HEADER, `${S} | insert item | keywords | soil`),
    commands: [{ action: 'insert' }],
  },
  {
    name: 'insert items',
    sheet: tsv(HEADER, `${S} | insert items | keywords | soil`),
    commands: [{ action: 'insert' }],
  },
  {
    name: 'remove item',
    sheet: tsv(HEADER, `${S} | remove item | keywords | soil`),
    commands: [{ action: 'remove_items' }],
  },
  {
    name: 'remove items',
    sheet: tsv(HEADER, `${S} | remove items | keywords | soil`),
    commands: [{ action: 'remove_items' }],
  },
  {
    name: 'remove with an empty value',
    sheet: tsv(HEADER, `${S} | remove | description | `),
    commands: [{ action: 'unset', path: 'description', value: '' }],
  },
  {
    name: 'delete ignores its value',
    sheet: tsv(HEADER, `${S} | delete | description | whatever`),
    commands: [{ action: 'unset' }],
  },
  {
    name: 'actions are case and space insensitive',
    sheet: tsv(HEADER, `${S} | Insert   Items | keywords | x`),
    commands: [{ action: 'insert' }],
  },
  {
    name: 'an unknown action',
    sheet: tsv(HEADER, `${S} | append | keywords | x`),
    problems: [{ row: 2, path: 'action', message: /unknown action "append"/ }],
  },
  {
    name: 'inherited action',
    sheet: tsv(HEADER, `${S} | update | name | A`, ` |  | description | B`),
    commands: [
      { action: 'set', path: 'name' },
      { action: 'set', path: 'description', row: 3 },
    ],
  },
  {
    name: 'inherited id',
    sheet: tsv(HEADER, `${S} | update | name | A`, ` | insert | keywords | k`),
    commands: [{ id: S }, { id: S, action: 'insert' }],
  },
  {
    name: 'inheritance crosses targets for the action only',
    sheet: tsv(HEADER, `${S} | insert | keywords | k`, `${B} |  | keywords | j`),
    commands: [
      { id: S, action: 'insert' },
      { id: B, action: 'insert' },
    ],
  },
  {
    name: 'a first row without an action',
    sheet: tsv(HEADER, `${S} |  | name | X`),
    problems: [{ row: 2, path: 'action', message: /first row needs an action/ }],
  },
  {
    name: 'a row before any target',
    sheet: tsv(HEADER, ` | update | name | X`),
    problems: [{ row: 2, path: 'id', message: /before any target/ }],
  },
  {
    name: 'dotted paths',
    sheet: tsv(HEADER, `${B} | update | depth.has_numeric_value | 5`),
    commands: [{ path: 'depth.has_numeric_value', value: '5' }],
  },
  {
    name: 'an empty attribute',
    sheet: tsv(HEADER, `${S} | update |  | X`),
    problems: [{ row: 2, path: 'attribute', message: /attribute is empty/ }],
  },
  {
    name: 'a malformed path',
    sheet: tsv(HEADER, `${S} | update | a..b | X`),
    problems: [{ row: 2, path: 'attribute', message: /not a slot path/ }],
  },
  {
    name: 'a $ in a path',
    sheet: tsv(HEADER, `${S} | update | $where | X`),
    problems: [{ row: 2, path: 'attribute', message: /not a slot path/ }],
  },
  {
    name: 'an update with an empty value',
    sheet: tsv(HEADER, `${S} | update | name | `),
    problems: [{ row: 2, path: 'value', message: /value is empty/ }],
  },
  {
    name: 'a variable (blank node)',
    sheet: tsv(
      HEADER,
      `${S} | update | principal_investigator | v1`,
      `v1 |  | name | Ada`,
      `v1 |  | email | ada@example.org`,
    ),
    commands: [
      {
        action: 'set',
        path: 'principal_investigator',
        value: { name: 'Ada', email: 'ada@example.org' },
        row: 2,
      },
    ],
  },
  {
    name: 'the last row of a group decides the action',
    sheet: tsv(
      HEADER,
      `${S} | update | has_credit_associations | v1`,
      `v1 | insert | applied_roles | Investigation`,
      `v1 |  | applies_to_person.name | Ada`,
    ),
    commands: [
      {
        action: 'insert',
        path: 'has_credit_associations',
        value: { applied_roles: 'Investigation', 'applies_to_person.name': 'Ada' },
      },
    ],
  },
  {
    name: 'variables nested two levels',
    sheet: tsv(
      HEADER,
      `${S} | insert | has_credit_associations | v1`,
      `v1 |  | applies_to_person | v2`,
      `v2 |  | name | Ada`,
      `v2 |  | orcid | 0000-0001`,
      `v1 |  | applied_roles | Methodology`,
    ),
    commands: [
      {
        path: 'has_credit_associations',
        value: { applies_to_person: { name: 'Ada', orcid: '0000-0001' }, applied_roles: 'Methodology' },
      },
    ],
  },
  {
    name: 'variables nested three levels',
    sheet: tsv(HEADER, `${S} | update | a | v1`, `v1 |  | b | v2`, `v2 |  | c | v3`, `v3 |  | d | deep`),
    commands: [{ path: 'a', value: { b: { c: { d: 'deep' } } } }],
  },
  {
    name: 'variable names are local to their target',
    sheet: tsv(
      HEADER,
      `${S} | update | principal_investigator | v1`,
      `v1 |  | name | Ada`,
      `${B} | update | collected_by | v1`,
      `v1 |  | name | Bob`,
    ),
    commands: [
      { id: S, value: { name: 'Ada' } },
      { id: B, value: { name: 'Bob' } },
    ],
  },
  {
    name: 'a variable never attached',
    sheet: tsv(HEADER, `${S} | update | name | X`, `v9 |  | name | Y`),
    problems: [{ row: 3, path: 'id', message: /never attached/ }],
  },
  {
    name: 'a variable attached twice',
    sheet: tsv(HEADER, `${S} | update | a | v1`, ` |  | b | v1`, `v1 |  | name | X`),
    problems: [{ row: 3, path: 'value', message: /already attached at row 2/ }],
  },
  {
    name: 'a variable containing itself',
    sheet: tsv(HEADER, `${S} | update | a | v1`, `v1 |  | b | v1`),
    problems: [{ path: 'value', message: /already attached|contains itself/ }],
  },
  {
    name: 'a value that merely looks like a name stays a string',
    sheet: tsv(HEADER, `${S} | update | name | v1`),
    commands: [{ value: 'v1' }],
  },
  {
    name: 'pipes are kept for the planner',
    sheet: tsv(HEADER, `${S} | insert | keywords | a || b`.replace('||', '\u0001')).replace('\u0001', '|'),
    commands: [{ value: 'a | b' }],
  },
  {
    name: 'extra columns are ignored',
    sheet: tsv('id | action | attribute | value | comment', `${S} | update | name | X | because`),
    commands: [{ value: 'X' }],
  },
  {
    name: 'columns in any order',
    sheet: tsv('value | attribute | id | action', `X | name | ${S} | update`),
    commands: [{ id: S, path: 'name', value: 'X' }],
  },
  {
    name: 'header names are case-insensitive',
    sheet: tsv('ID | Action | Attribute | Value', `${S} | update | name | X`),
    commands: [{ value: 'X' }],
  },
  {
    name: 'a missing column',
    sheet: tsv('id | action | value', `${S} | update | X`),
    problems: [{ row: 1, path: 'attribute', message: /lacks the 'attribute' column/ }],
  },
  {
    name: 'two missing columns',
    sheet: tsv('id | action', `${S} | update`),
    problems: [
      { path: 'attribute', message: /lacks/ },
      { path: 'value', message: /lacks/ },
    ],
  },
  { name: 'an empty file', sheet: '', problems: [{ path: 'sheet', message: /empty/ }] },
  { name: 'only blank lines', sheet: '\n\n\t\t\n', problems: [{ path: 'sheet', message: /empty/ }] },
  { name: 'a UTF-8 BOM', sheet: `\uFEFF${tsv(HEADER, `${S} | update | name | X`)}`, commands: [{ id: S }] },
  {
    name: 'CRLF line ends',
    sheet: tsv(HEADER, `${S} | update | name | X`).replace(/\n/g, '\r\n'),
    commands: [{ value: 'X' }],
  },
  {
    name: 'blank lines keep line numbers',
    sheet: tsv(HEADER, '', `${S} | update | name | X`, '', ` |  | description | Y`),
    commands: [{ row: 3 }, { row: 5 }],
  },
  {
    name: 'surrounding spaces are trimmed',
    sheet: tsv(HEADER, `  ${S}   |  update  |  name  |  X  `),
    commands: [{ id: S, value: 'X' }],
  },
  { name: 'CSV', sheet: `id,action,attribute,value\n${S},update,name,X`, commands: [{ id: S, value: 'X' }] },
  {
    name: 'CSV with quoted commas',
    sheet: `id,action,attribute,value\n${S},update,name,"Soil, wet"`,
    commands: [{ value: 'Soil, wet' }],
  },
  {
    name: 'CSV with doubled quotes',
    sheet: `id,action,attribute,value\n${S},update,name,"the ""best"" soil"`,
    commands: [{ value: 'the "best" soil' }],
  },
  {
    name: 'CSV with a newline in quotes',
    sheet: `id,action,attribute,value\n${S},update,description,"line one\nline two"\n,,name,X`,
    commands: [{ value: 'line one\nline two', row: 2 }, { row: 4 }],
  },
  {
    name: 'CSV with CRLF',
    sheet: `id,action,attribute,value\r\n${S},update,name,X\r\n`,
    commands: [{ value: 'X' }],
  },
  {
    name: 'CSV with an unclosed quote',
    sheet: `id,action,attribute,value\n${S},update,name,"open`,
    problems: [{ row: 2, message: /never closed/ }],
  },
  {
    name: 'the hint wins over detection',
    sheet: `id,action,attribute,value\n${S},update,name,"a\tb"`,
    hint: 'csv',
    commands: [{ value: 'a\tb' }],
  },
  {
    name: 'a short row reads missing cells as empty',
    sheet: tsv(HEADER, `${S} | remove | description`),
    commands: [{ action: 'unset', value: '' }],
  },
  {
    name: 'every problem is reported, not only the first',
    sheet: tsv(HEADER, `${S} | append | name | X`, ` | update |  | Y`, ` | update | name | `),
    problems: [
      { row: 2, path: 'action', message: /unknown action/ },
      { row: 3, path: 'attribute', message: /empty/ },
      { row: 4, path: 'value', message: /empty/ },
    ],
  },
];

describe('parseChangesheet', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)('$name', ({ sheet, hint, commands, problems }) => {
    const parsed = parseChangesheet(sheet, hint);
    if (problems) {
      expect(parsed.problems).toEqual(
        problems.map((p) => expect.objectContaining({ ...p, message: expect.stringMatching(p.message) })),
      );
    } else {
      expect(parsed.problems).toEqual([]);
    }
    if (commands) {
      expect(parsed.commands).toHaveLength(commands.length);
      commands.forEach((expected, i) => {
        const actual = parsed.commands[i]!;
        const { path, value, ...rest } = expected;
        expect(actual).toMatchObject(rest);
        if (path !== undefined) {
          expect(actual.path.join('.')).toBe(path);
        }
        if (value !== undefined) {
          expect(simplify(actual.value)).toEqual(value);
        }
      });
    }
  });

  it('never throws on random input', () => {
    let seed = 42;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = 'ab:\t,\n\r"| vx1.';
    for (let i = 0; i < 500; i++) {
      const length = Math.floor(random() * 200);
      let text = i % 2 === 0 ? `${HEADER.replace(/ \| /g, '\t')}\n` : '';
      for (let j = 0; j < length; j++) {
        text += alphabet[Math.floor(random() * alphabet.length)];
      }
      expect(() => parseChangesheet(text)).not.toThrow();
    }
  });
});
