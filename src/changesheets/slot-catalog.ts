/**
 * What a changesheet needs to know about slots, read from the metadata JSON Schema: for each class and
 * slot, the scalar kind, whether it holds a list, and the class of nested objects.
 */

import { isJsonObject, type JsonObject } from '../metadata/json-document.js';

export type SlotKind = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'any';

export interface SlotInfo {
  readonly kind: SlotKind;
  readonly multivalued: boolean;
  /** The class of the objects this slot holds, when it holds objects of a known class. */
  readonly rangeClass?: string;
}

export class SlotCatalog {
  private readonly defs: JsonObject;
  private readonly defsPrefix: string;
  /** Objects declared inline (not as a class), under made-up class names so they are walked like classes. */
  private readonly inline = new Map<string, JsonObject>();
  private readonly inlineNames = new WeakMap<JsonObject, string>();

  constructor(schema: unknown) {
    const document = isJsonObject(schema) ? schema : {};
    const key = isJsonObject(document.$defs) ? '$defs' : 'definitions';
    this.defs = isJsonObject(document[key]) ? document[key] : {};
    this.defsPrefix = `#/${key}/`;
  }

  hasClass(name: string): boolean {
    return isJsonObject(this.defs[name]);
  }

  private def(className: string): unknown {
    return this.inline.get(className) ?? this.defs[className];
  }

  /** The class named by a document's `type` (`nmdc:Study` → `Study`), if the schema defines it. */
  classFromType(type: unknown): string | undefined {
    if (typeof type !== 'string') {
      return undefined;
    }
    const local = type.includes(':') ? type.slice(type.indexOf(':') + 1) : type;
    return this.hasClass(local) ? local : undefined;
  }

  slotNames(className: string): string[] {
    const def = this.def(className);
    return isJsonObject(def) && isJsonObject(def.properties) ? Object.keys(def.properties).sort() : [];
  }

  /** The `type` value objects of this class carry, when the class declares one. */
  typeValueOf(className: string): string | undefined {
    const def = this.def(className);
    const typeSlot = isJsonObject(def) && isJsonObject(def.properties) ? def.properties.type : undefined;
    if (!isJsonObject(typeSlot)) {
      return undefined;
    }
    if (typeof typeSlot.const === 'string') {
      return typeSlot.const;
    }
    if (Array.isArray(typeSlot.enum) && typeof typeSlot.enum[0] === 'string') {
      return typeSlot.enum[0];
    }
    return undefined;
  }

  slot(className: string, slotName: string): SlotInfo | undefined {
    const def = this.def(className);
    if (!isJsonObject(def) || !isJsonObject(def.properties)) {
      return undefined;
    }
    const slot = def.properties[slotName];
    return isJsonObject(slot) ? this.describe(slot, 0) : undefined;
  }

  private describe(slot: JsonObject, depth: number): SlotInfo {
    if (depth > 8) {
      return { kind: 'any', multivalued: false };
    }
    if (slot.type === 'array' || (Array.isArray(slot.type) && slot.type.includes('array'))) {
      const items = isJsonObject(slot.items)
        ? this.describe(slot.items, depth + 1)
        : { kind: 'any' as const, multivalued: false };
      return { ...items, multivalued: true };
    }
    if (typeof slot.$ref === 'string') {
      const target = slot.$ref.startsWith(this.defsPrefix)
        ? slot.$ref.slice(this.defsPrefix.length)
        : undefined;
      const def = target ? this.defs[target] : undefined;
      if (target && isJsonObject(def)) {
        if (isJsonObject(def.properties) || def.type === 'object') {
          return { kind: 'object', multivalued: false, rangeClass: target };
        }
        return this.describe(def, depth + 1);
      }
      return { kind: 'any', multivalued: false };
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      const options = slot[key];
      if (Array.isArray(options)) {
        const described = options
          .filter(isJsonObject)
          .map((o) => this.describe(o, depth + 1))
          .filter((o) => o.kind !== 'any' || o.multivalued);
        const nonNull = described.filter((d) => !(d.kind === 'any' && !d.multivalued));
        if (nonNull.length === 1) {
          return nonNull[0]!;
        }
        const multivalued = described.find((d) => d.multivalued);
        return multivalued ?? described[0] ?? { kind: 'any', multivalued: false };
      }
    }
    const declared: unknown[] = Array.isArray(slot.type) ? (slot.type as unknown[]) : [slot.type];
    const type = declared.find((t) => t !== 'null');
    switch (type) {
      case 'string':
      case 'number':
      case 'integer':
      case 'boolean':
        return { kind: type, multivalued: false };
      case 'object':
        return isJsonObject(slot.properties)
          ? { kind: 'object', multivalued: false, rangeClass: this.inlineClass(slot) }
          : { kind: 'object', multivalued: false };
      default:
        return Array.isArray(slot.enum)
          ? { kind: 'string', multivalued: false }
          : { kind: 'any', multivalued: false };
    }
  }

  private inlineClass(schema: JsonObject): string {
    let name = this.inlineNames.get(schema);
    if (!name) {
      // Not a valid schema class name, so it cannot collide with one.
      name = `#inline-${this.inline.size + 1}`;
      this.inline.set(name, schema);
      this.inlineNames.set(schema, name);
    }
    return name;
  }
}
