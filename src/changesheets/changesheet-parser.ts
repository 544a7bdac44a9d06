/**
 * Parses a changesheet (TSV or CSV with the columns id, action, attribute, value) into change commands,
 * reporting every problem with its row number. Pure: it knows nothing of the schema or the stored
 * documents; the planner checks slots, coerces values and applies the commands.
 *
 * Row numbers are the 1-based line numbers of the file (the header is line 1), so a curator can find
 * each row in a spreadsheet or an editor.
 */

export type ChangeAction = 'insert' | 'remove_items' | 'set' | 'unset';

/** A value as written: a cell's text, or the object a variable (blank node) assembles. */
export type RawValue = string | RawObject;
export interface RawObject {
  readonly kind: 'object';
  /** Sub-fields in sheet order; paths are relative to the attribute the variable hangs off. */
  readonly fields: readonly {
    readonly path: readonly string[];
    readonly value: RawValue;
    readonly row: number;
  }[];
}

export interface ChangeCommand {
  /** The target document's id (a CURIE such as `nmdc:sty-11-abc123`). */
  readonly id: string;
  readonly action: ChangeAction;
  readonly path: readonly string[];
  readonly value: RawValue;
  /** The row that names the attribute; for a variable group, the declaring row. */
  readonly row: number;
  /** Every row that contributed. */
  readonly rows: readonly number[];
}

export interface SheetProblem {
  readonly row?: number;
  readonly id?: string;
  readonly path: string;
  readonly message: string;
}

export interface ParsedSheet {
  readonly commands: ChangeCommand[];
  readonly problems: SheetProblem[];
  readonly format: 'tsv' | 'csv';
  /**
   * False when the input cannot be read as a changesheet at all (empty, no header with the four
   * columns, too many rows, an unclosed CSV quote), as opposed to a readable sheet with bad rows.
   */
  readonly readable: boolean;
}

const ACTIONS: Record<string, ChangeAction> = {
  insert: 'insert',
  'insert item': 'insert',
  'insert items': 'insert',
  'remove item': 'remove_items',
  'remove items': 'remove_items',
  update: 'set',
  set: 'set',
  replace: 'set',
  'replace items': 'set',
  remove: 'unset',
  delete: 'unset',
};

export const ACTION_NAMES = Object.keys(ACTIONS);

const REQUIRED_COLUMNS = ['id', 'action', 'attribute', 'value'] as const;
const SEGMENT = /^[A-Za-z_][A-Za-z0-9_ ]*$/;
const MAX_ROWS = 200_000;

interface Record_ {
  line: number;
  cells: string[];
}

/** Splits text into records. CSV follows RFC 4180 (quotes, doubled quotes, separators and newlines in quotes). */
export function splitRecords(
  text: string,
  format: 'tsv' | 'csv',
): { records: Record_[]; problems: SheetProblem[] } {
  const records: Record_[] = [];
  const problems: SheetProblem[] = [];
  if (format === 'tsv') {
    text.split(/\r\n|\n|\r/).forEach((line, i) => records.push({ line: i + 1, cells: line.split('\t') }));
    return { records, problems };
  }
  let line = 1;
  let startLine = 1;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let atCellStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (ch === '\n') {
          line++;
        }
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && atCellStart) {
      quoted = true;
      atCellStart = false;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
      atCellStart = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') {
        i++;
      }
      cells.push(cell);
      records.push({ line: startLine, cells });
      cells = [];
      cell = '';
      atCellStart = true;
      line++;
      startLine = line;
    } else {
      cell += ch;
      atCellStart = false;
    }
  }
  if (quoted) {
    problems.push({ row: startLine, path: 'sheet', message: 'a quoted CSV field is never closed' });
  }
  cells.push(cell);
  records.push({ line: startLine, cells });
  return { records, problems };
}

export function detectFormat(text: string, hint?: 'tsv' | 'csv'): 'tsv' | 'csv' {
  if (hint) {
    return hint;
  }
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  return header.includes('\t') ? 'tsv' : 'csv';
}

interface Row {
  line: number;
  id: string;
  action: string;
  attribute: string;
  value: string;
}

interface Target {
  id: string;
  rows: Row[];
}

export function parseChangesheet(input: string, hint?: 'tsv' | 'csv'): ParsedSheet {
  const text = input.replace(/^\uFEFF/, '');
  const format = detectFormat(text, hint);
  const problems: SheetProblem[] = [];
  const split = splitRecords(text, format);
  problems.push(...split.problems);
  const records = split.records.filter((r) => r.cells.some((c) => c.trim() !== ''));
  const header = records.shift();
  if (!header) {
    return {
      commands: [],
      problems: [
        {
          path: 'sheet',
          message: 'the sheet is empty; it needs a header row with id, action, attribute and value',
        },
      ],
      format,
      readable: false,
    };
  }
  const columns = new Map(header.cells.map((name, index) => [name.trim().toLowerCase(), index]));
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    return {
      commands: [],
      problems: missing.map((c) => ({
        row: header.line,
        path: c,
        message: `the sheet lacks the '${c}' column (the header must name id, action, attribute and value; found ${header.cells.map((h) => `'${h.trim()}'`).join(', ')})`,
      })),
      format,
      readable: false,
    };
  }
  if (records.length > MAX_ROWS) {
    return {
      commands: [],
      problems: [
        { path: 'sheet', message: `the sheet has ${records.length} rows; at most ${MAX_ROWS} are accepted` },
      ],
      format,
      readable: false,
    };
  }
  const cell = (record: Record_, name: (typeof REQUIRED_COLUMNS)[number]): string =>
    (record.cells[columns.get(name)!] ?? '').trim();

  // Group rows by target, inheriting blank actions from the row above.
  const targets: Target[] = [];
  let previousAction = '';
  for (const record of records) {
    const row: Row = {
      line: record.line,
      id: cell(record, 'id'),
      action: cell(record, 'action').toLowerCase().replace(/\s+/g, ' '),
      attribute: cell(record, 'attribute'),
      value: cell(record, 'value'),
    };
    if (row.action === '') {
      if (previousAction === '') {
        problems.push({
          row: row.line,
          path: 'action',
          message: 'the first row needs an action (later rows may leave it blank to repeat the one above)',
        });
        continue;
      }
      row.action = previousAction;
    }
    previousAction = row.action;
    if (row.id.includes(':')) {
      targets.push({ id: row.id, rows: [row] });
    } else if (targets.length === 0) {
      problems.push({
        row: row.line,
        path: 'id',
        message: 'this row comes before any target id (an id such as nmdc:sty-11-abc123)',
      });
    } else {
      targets[targets.length - 1]!.rows.push(row);
    }
  }

  const commands: ChangeCommand[] = [];
  for (const target of targets) {
    commands.push(...commandsForTarget(target, problems));
  }
  return { commands, problems, format, readable: split.problems.length === 0 };
}

function parsePath(attribute: string, row: Row, id: string, problems: SheetProblem[]): string[] | undefined {
  if (attribute === '') {
    problems.push({ row: row.line, id, path: 'attribute', message: 'attribute is empty' });
    return undefined;
  }
  const segments = attribute.split('.').map((s) => s.trim());
  const bad = segments.find((s) => !SEGMENT.test(s));
  if (bad !== undefined) {
    problems.push({
      row: row.line,
      id,
      path: 'attribute',
      message: `"${attribute}" is not a slot path (segments are slot names joined by dots)`,
    });
    return undefined;
  }
  return segments;
}

function commandsForTarget(target: Target, problems: SheetProblem[]): ChangeCommand[] {
  const id = target.id;
  const variables = new Set(target.rows.map((r) => r.id).filter((v) => v !== '' && v !== id));
  const rowsOf = new Map<string, Row[]>();
  for (const row of target.rows) {
    if (variables.has(row.id)) {
      rowsOf.set(row.id, [...(rowsOf.get(row.id) ?? []), row]);
    }
  }
  const declared = new Map<string, Row>();
  for (const row of target.rows) {
    if (variables.has(row.value)) {
      const earlier = declared.get(row.value);
      if (earlier) {
        problems.push({
          row: row.line,
          id,
          path: 'value',
          message: `variable ${row.value} is already attached at row ${earlier.line}; use a new variable name`,
        });
      } else {
        declared.set(row.value, row);
      }
    }
  }
  for (const name of variables) {
    if (!declared.has(name)) {
      const first = rowsOf.get(name)![0]!;
      problems.push({
        row: first.line,
        id,
        path: 'id',
        message: `variable ${name} is never attached to an attribute: no row of ${id} has the value ${name}`,
      });
    }
  }

  const actionOf = (row: Row): ChangeAction | undefined => {
    const action = ACTIONS[row.action];
    if (!action) {
      problems.push({
        row: row.line,
        id,
        path: 'action',
        message: `unknown action "${row.action}"; use one of ${ACTION_NAMES.join(', ')}`,
      });
    }
    return action;
  };

  /** Builds a variable's object, following nested variables; `seen` guards against cycles. */
  const buildObject = (
    name: string,
    seen: Set<string>,
  ): { value: RawObject; rows: number[]; last: Row } | undefined => {
    if (seen.has(name)) {
      const row = declared.get(name)!;
      problems.push({ row: row.line, id, path: 'value', message: `variable ${name} contains itself` });
      return undefined;
    }
    const rows = rowsOf.get(name) ?? [];
    const fields: { path: string[]; value: RawValue; row: number }[] = [];
    const contributing: number[] = [];
    let last = declared.get(name)!;
    let ok = true;
    for (const row of rows) {
      contributing.push(row.line);
      if (row.line > last.line) {
        last = row;
      }
      const path = parsePath(row.attribute, row, id, problems);
      if (!path) {
        ok = false;
        continue;
      }
      actionOf(row);
      if (variables.has(row.value) && declared.get(row.value) === row) {
        const nested = buildObject(row.value, new Set([...seen, name]));
        if (!nested) {
          ok = false;
          continue;
        }
        contributing.push(...nested.rows);
        if (nested.last.line > last.line) {
          last = nested.last;
        }
        fields.push({ path, value: nested.value, row: row.line });
      } else {
        fields.push({ path, value: row.value, row: row.line });
      }
    }
    if (fields.length === 0 && ok) {
      const row = declared.get(name)!;
      problems.push({
        row: row.line,
        id,
        path: 'value',
        message: `variable ${name} has no rows giving its fields`,
      });
      return undefined;
    }
    return ok ? { value: { kind: 'object', fields }, rows: contributing, last } : undefined;
  };

  const commands: ChangeCommand[] = [];
  for (const row of target.rows) {
    if (row.id !== id && row.id !== '') {
      continue;
    }
    const path = parsePath(row.attribute, row, id, problems);
    const ownAction = actionOf(row);
    if (!path || !ownAction) {
      continue;
    }
    if (variables.has(row.value) && declared.get(row.value) === row) {
      const built = buildObject(row.value, new Set());
      if (!built) {
        continue;
      }
      // The last row of a group decides the operator, as curators write the action once, at the end too.
      const action = ACTIONS[built.last.action] ?? ownAction;
      commands.push({
        id,
        action,
        path,
        value: built.value,
        row: row.line,
        rows: [row.line, ...built.rows].sort((a, b) => a - b),
      });
      continue;
    }
    if (ownAction !== 'unset' && row.value === '') {
      problems.push({
        row: row.line,
        id,
        path: 'value',
        message: `value is empty; "${row.action}" needs a value (use "remove" to clear a slot)`,
      });
      continue;
    }
    commands.push({ id, action: ownAction, path, value: row.value, row: row.line, rows: [row.line] });
  }
  return commands;
}
