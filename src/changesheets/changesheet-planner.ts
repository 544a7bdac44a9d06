import jsonPatch, { type Operation } from 'fast-json-patch';

import { canonicalJson } from '../metadata/json-document.js';
import type { ChangeCommand, RawObject, RawValue, SheetProblem } from './changesheet-parser.js';
import type { SlotCatalog, SlotInfo } from './slot-catalog.js';

type Doc = Record<string, unknown>;

export interface StoredDocument {
  readonly collection: string;
  readonly doc: Doc;
}

export interface PlannerContext {
  readonly catalog: SlotCatalog;
  /** The current documents the sheet targets, by id (ids missing here do not exist). */
  readonly documents: ReadonlyMap<string, StoredDocument>;
  /** The class of a collection's documents when it holds only one (for documents without `type`). */
  readonly classOfCollection: (collection: string) => string | undefined;
  /** Schema problems of a document, with JSON-pointer paths. */
  readonly validate: (collection: string, doc: Doc) => readonly { path: string; message: string }[];
}

export interface PlannedChange {
  readonly id: string;
  readonly collection: string;
  readonly before: Doc;
  readonly after: Doc;
  /** RFC 6902 operations turning `before` into `after`. */
  readonly patch: Operation[];
  /** The sheet rows behind this change. */
  readonly rows: number[];
}

export interface Plan {
  readonly changes: PlannedChange[];
  readonly problems: SheetProblem[];
}

class CommandProblem extends Error {
  constructor(
    message: string,
    readonly row: number,
    readonly path: string,
  ) {
    super(message);
  }
}

const TRUE = new Set(['true', 'yes', '1']);
const FALSE = new Set(['false', 'no', '0']);

function coerce(raw: string, slot: SlotInfo, slotName: string, row: number): unknown {
  switch (slot.kind) {
    case 'integer':
      if (!/^[+-]?\d+$/.test(raw)) {
        throw new CommandProblem(`"${raw}" is not an integer, which ${slotName} holds`, row, 'value');
      }
      return Number(raw);
    case 'number': {
      const value = Number(raw);
      if (raw === '' || !Number.isFinite(value)) {
        throw new CommandProblem(`"${raw}" is not a number, which ${slotName} holds`, row, 'value');
      }
      return value;
    }
    case 'boolean': {
      const lower = raw.toLowerCase();
      if (TRUE.has(lower)) {
        return true;
      }
      if (FALSE.has(lower)) {
        return false;
      }
      throw new CommandProblem(`"${raw}" is not true or false, which ${slotName} holds`, row, 'value');
    }
    case 'object':
      throw new CommandProblem(
        `${slotName} holds objects: give its fields through a variable (see the changesheet guide)`,
        row,
        'value',
      );
    case 'string':
    case 'any':
      return raw;
  }
}

/** Splits a cell into list items on `|` for multivalued slots; other slots keep the cell whole. */
function scalarValues(raw: string, slot: SlotInfo, slotName: string, row: number): unknown[] {
  const parts = slot.multivalued
    ? raw
        .split('|')
        .map((p) => p.trim())
        .filter((p) => p !== '')
    : [raw];
  return parts.map((part) => coerce(part, slot, slotName, row));
}

function deepEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** A JSON pointer a command wrote, and the sheet row that wrote it. */
interface WrittenPath {
  readonly pointer: string;
  readonly row: number;
}

function pointerOf(path: readonly string[]): string {
  return path.map((segment) => `/${segment.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Every pointer a command writes: its attribute, and for a variable group each sub-field's own row. */
function writtenPaths(command: ChangeCommand): WrittenPath[] {
  const base = pointerOf(command.path);
  const written: WrittenPath[] = [{ pointer: base, row: command.row }];
  if (typeof command.value === 'object' && command.value.kind === 'object') {
    for (const field of command.value.fields) {
      written.push({ pointer: `${base}${pointerOf(field.path)}`, row: field.row });
    }
  }
  return written;
}

/**
 * The row to blame for a schema problem found after applying a sheet: the last row that wrote the
 * problem's location or the closest enclosing one (a bad `/depth/has_numeric_value` belongs to the row
 * that set it, not to the target's first row). Undefined when no row wrote anywhere near it.
 */
function rowOfProblem(problemPath: string, written: readonly WrittenPath[]): number | undefined {
  let best: WrittenPath | undefined;
  for (const entry of written) {
    const related =
      problemPath === entry.pointer ||
      problemPath.startsWith(`${entry.pointer}/`) ||
      entry.pointer.startsWith(`${problemPath}/`);
    if (related && (!best || entry.pointer.length >= best.pointer.length)) {
      best = entry;
    }
  }
  return best?.row;
}

export class ChangesheetPlanner {
  constructor(private readonly ctx: PlannerContext) {}

  plan(commands: readonly ChangeCommand[]): Plan {
    const problems: SheetProblem[] = [];
    const working = new Map<
      string,
      { collection: string; before: Doc; after: Doc; rows: number[]; written: WrittenPath[] }
    >();
    for (const command of commands) {
      const stored = this.ctx.documents.get(command.id);
      if (!stored) {
        problems.push({
          row: command.row,
          id: command.id,
          path: 'id',
          message: `no document has the id ${command.id}`,
        });
        continue;
      }
      let entry = working.get(command.id);
      if (!entry) {
        entry = {
          collection: stored.collection,
          before: stored.doc,
          after: structuredClone(stored.doc),
          rows: [],
          written: [],
        };
        working.set(command.id, entry);
      }
      const className =
        this.ctx.catalog.classFromType(entry.after.type) ?? this.ctx.classOfCollection(stored.collection);
      if (!className) {
        problems.push({
          row: command.row,
          id: command.id,
          path: 'id',
          message: `${command.id} has no type naming a schema class`,
        });
        continue;
      }
      try {
        this.apply(entry.after, className, command);
        entry.rows.push(...command.rows);
        entry.written.push(...writtenPaths(command));
      } catch (error) {
        if (error instanceof CommandProblem) {
          problems.push({ row: error.row, id: command.id, path: error.path, message: error.message });
        } else {
          throw error;
        }
      }
    }

    const changes: PlannedChange[] = [];
    for (const [id, entry] of working) {
      const patch = jsonPatch.compare(entry.before, entry.after);
      for (const problem of this.ctx.validate(entry.collection, entry.after)) {
        problems.push({
          row: rowOfProblem(problem.path, entry.written) ?? entry.rows[0],
          id,
          path: problem.path,
          message: problem.message,
        });
      }
      if (patch.length > 0) {
        changes.push({
          id,
          collection: entry.collection,
          before: entry.before,
          after: entry.after,
          patch,
          rows: [...new Set(entry.rows)].sort((a, b) => a - b),
        });
      }
    }
    return { changes, problems };
  }

  /** Walks the path through the schema, builds the value and applies the action to `doc` in place. */
  private apply(doc: Doc, className: string, command: ChangeCommand): void {
    let container: Doc = doc;
    let currentClass: string | undefined = className;
    const segments = command.path;
    for (let i = 0; i < segments.length - 1; i++) {
      const name = segments[i]!;
      const slot: SlotInfo | undefined = currentClass ? this.ctx.catalog.slot(currentClass, name) : undefined;
      if (currentClass && !slot) {
        throw new CommandProblem(`${currentClass} has no slot "${name}"`, command.row, 'attribute');
      }
      if (slot && (slot.kind !== 'object' || slot.multivalued)) {
        throw new CommandProblem(
          `"${name}" does not hold a single object, so "${segments.slice(0, i + 2).join('.')}" cannot be reached`,
          command.row,
          'attribute',
        );
      }
      const next = container[name];
      if (next === undefined || next === null) {
        container[name] = {};
      } else if (typeof next !== 'object' || Array.isArray(next)) {
        throw new CommandProblem(
          `"${segments.slice(0, i + 1).join('.')}" is not an object in ${command.id}`,
          command.row,
          'attribute',
        );
      }
      container = container[name] as Doc;
      currentClass = slot?.rangeClass;
    }
    const leaf = segments[segments.length - 1]!;
    const slot: SlotInfo | undefined = currentClass
      ? this.ctx.catalog.slot(currentClass, leaf)
      : { kind: 'any', multivalued: false };
    if (!slot) {
      throw new CommandProblem(`${currentClass} has no slot "${leaf}"`, command.row, 'attribute');
    }
    const path = segments.join('.');

    switch (command.action) {
      case 'unset':
        delete container[leaf];
        return;
      case 'set': {
        const values = this.values(command.value, slot, leaf, command.row);
        container[leaf] = slot.multivalued ? values : values[0];
        return;
      }
      case 'insert':
      case 'remove_items': {
        if (!slot.multivalued) {
          throw new CommandProblem(
            `"${command.action === 'insert' ? 'insert' : 'remove items'}" needs a slot that holds a list, and ${path} holds one value; use "update"`,
            command.row,
            'action',
          );
        }
        const values = this.values(command.value, slot, leaf, command.row);
        const current = container[leaf];
        if (current !== undefined && !Array.isArray(current)) {
          throw new CommandProblem(`${path} of ${command.id} is not a list`, command.row, 'attribute');
        }
        const list = [...((current as unknown[] | undefined) ?? [])];
        if (command.action === 'insert') {
          for (const value of values) {
            if (!list.some((item) => deepEqual(item, value))) {
              list.push(value);
            }
          }
          container[leaf] = list;
        } else {
          container[leaf] = list.filter((item) => !values.some((value) => deepEqual(item, value)));
        }
        return;
      }
    }
  }

  private values(value: RawValue, slot: SlotInfo, slotName: string, row: number): unknown[] {
    if (typeof value === 'string') {
      return scalarValues(value, slot, slotName, row);
    }
    if (slot.kind !== 'object' && slot.kind !== 'any') {
      throw new CommandProblem(`${slotName} holds ${slot.kind} values, not objects`, row, 'value');
    }
    return [this.buildObject(value, slot.rangeClass)];
  }

  /** Assembles a variable's object; each multivalued level becomes a list, as the reference format does. */
  private buildObject(raw: RawObject, className: string | undefined): Doc {
    const object: Doc = {};
    const typeValue = className ? this.ctx.catalog.typeValueOf(className) : undefined;
    if (typeValue) {
      object.type = typeValue;
    }
    for (const field of raw.fields) {
      let container = object;
      let currentClass = className;
      for (let i = 0; i < field.path.length; i++) {
        const name = field.path[i]!;
        const slot: SlotInfo | undefined = currentClass
          ? this.ctx.catalog.slot(currentClass, name)
          : { kind: 'any', multivalued: false };
        if (!slot) {
          throw new CommandProblem(`${currentClass} has no slot "${name}"`, field.row, 'attribute');
        }
        const last = i === field.path.length - 1;
        if (last) {
          const values = this.values(field.value, slot, name, field.row);
          if (slot.multivalued) {
            const existing = Array.isArray(container[name]) ? (container[name] as unknown[]) : [];
            container[name] = [...existing, ...values];
          } else {
            container[name] = values[0];
          }
          break;
        }
        if (slot.kind !== 'object' && slot.kind !== 'any') {
          throw new CommandProblem(`"${name}" does not hold objects`, field.row, 'attribute');
        }
        let child: Doc;
        if (slot.multivalued) {
          const list = Array.isArray(container[name]) ? (container[name] as Doc[]) : [];
          child = list[0] ?? {};
          container[name] = list.length > 0 ? list : [child];
        } else {
          child = (container[name] as Doc | undefined) ?? {};
          container[name] = child;
        }
        const childType = slot.rangeClass ? this.ctx.catalog.typeValueOf(slot.rangeClass) : undefined;
        if (childType && child.type === undefined) {
          child.type = childType;
        }
        container = child;
        currentClass = slot.rangeClass;
      }
    }
    return object;
  }
}
