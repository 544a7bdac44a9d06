import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

import type { FieldProblem } from '../../common/errors/domain-errors.js';
import { parseSchemaId } from '../../common/ids/schema-ids.js';
import { escapePointer, isJsonObject as isObject } from '../json-document.js';

/** A MongoDB index the schema asks for, from the `x-indexes` annotation of a collection slot. */
export interface IndexDeclaration {
  readonly name: string;
  readonly key: Readonly<Record<string, 1 | -1>>;
  readonly unique: boolean;
}

export interface CollectionSpec {
  readonly name: string;
  readonly description?: string;
  /** Names of the classes whose instances the collection holds. */
  readonly classes: readonly string[];
  /** True when every class has an `id` slot: documents are then addressed (and stored) by id. */
  readonly hasId: boolean;
  /** Every slot of every class, sorted: what filters and projections may name. */
  readonly fields: readonly string[];
  readonly indexes: readonly IndexDeclaration[];
}

export interface ClassSpec {
  readonly name: string;
  /** The value of the class's `type` slot, e.g. `nmdc:Biosample`. */
  readonly uri: string;
  /** Typecodes from the `id` pattern; the first is the one new ids are minted with. */
  readonly typecodes: readonly string[];
  readonly idPrefix?: string;
  readonly collections: readonly string[];
  /** Slots whose values are ids of other documents, with the typecodes they may point to. */
  readonly references: ReadonlyMap<string, readonly string[]>;
  /**
   * True when the schema gives the class's ids no typecode (one generic id pattern, as the published
   * `nmdc.schema.json` does), so reference slots cannot be told from their patterns: every plain string
   * slot is then a candidate, and only values shaped like schema ids (`nmdc:bsm-11-…`) count as
   * references.
   */
  readonly inferredReferences: boolean;
}

export interface Reference {
  /** JSON pointer of the referring value. */
  readonly path: string;
  readonly id: string;
}

export class SchemaLoadError extends Error {
  constructor(source: string, problem: string) {
    super(`The metadata schema ${source} cannot be used: ${problem}`);
    this.name = 'SchemaLoadError';
  }
}

type Json = Record<string, unknown>;
type AjvInstance = Ajv | Ajv2019 | Ajv2020;

const MAX_ENUM_SHOWN = 12;
/** `^(nmdc):bsm-…` or `^(nmdc):(dgms|omprc)-…`, as the materialised NMDC schema writes id patterns. */
const TYPECODE_PATTERN = /\^\(([a-z][a-z0-9_]*)\):\(?([a-z|]+)\)?-/g;
const ROOT_KEY = 'runtime-hub:metadata-schema';

// ajv-formats is CommonJS; under ESM the plugin may arrive as the default or as the module itself.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: AjvInstance,
) => void;

function typecodesIn(pattern: unknown): { prefix?: string; typecodes: string[] } {
  if (typeof pattern !== 'string') {
    return { typecodes: [] };
  }
  const typecodes: string[] = [];
  let prefix: string | undefined;
  for (const match of pattern.matchAll(TYPECODE_PATTERN)) {
    prefix ??= match[1];
    for (const code of (match[2] ?? '').split('|')) {
      if (code && !typecodes.includes(code)) {
        typecodes.push(code);
      }
    }
  }
  return { ...(prefix ? { prefix } : {}), typecodes };
}

/** Every `pattern` under a slot's schema (direct, `items`, `anyOf`/`oneOf` branches). */
function patternsOf(slot: unknown, depth = 0): string[] {
  if (!isObject(slot) || depth > 3) {
    return [];
  }
  const found: string[] = typeof slot.pattern === 'string' ? [slot.pattern] : [];
  found.push(...patternsOf(slot.items, depth + 1));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = slot[key];
    if (Array.isArray(branches)) {
      branches.forEach((branch) => found.push(...patternsOf(branch, depth + 1)));
    }
  }
  return found;
}

/** A slot of strings without an enum or a `$ref` (`{"type": "string"}`, or an array of such items). */
function holdsPlainStrings(slot: unknown): boolean {
  if (!isObject(slot) || slot.$ref !== undefined || slot.enum !== undefined) {
    return false;
  }
  const types = Array.isArray(slot.type) ? slot.type : [slot.type];
  if (types.includes('string')) {
    return true;
  }
  return types.includes('array') && isObject(slot.items) && holdsPlainStrings(slot.items);
}

function draftOf(document: Json): '07' | '2019-09' | '2020-12' {
  const declared = typeof document.$schema === 'string' ? document.$schema : '';
  if (declared.includes('2020-12')) {
    return '2020-12';
  }
  if (declared.includes('2019-09')) {
    return '2019-09';
  }
  return '07';
}

function describeError(error: ErrorObject, className: string): FieldProblem | undefined {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: `${at}/${escapePointer(String(params.missingProperty))}`, message: 'is required' };
    case 'additionalProperties':
      return {
        path: `${at}/${escapePointer(String(params.additionalProperty))}`,
        message: at === '' ? `is not a slot of ${className}` : 'is not an allowed field here',
      };
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map(String) : [];
      const shown = allowed.slice(0, MAX_ENUM_SHOWN).join(', ');
      return {
        path: at,
        message: `must be one of: ${shown}${allowed.length > MAX_ENUM_SHOWN ? ', …' : ''}`,
      };
    }
    case 'type':
      // The `{"type": "null"}` branch of an optional slot only adds noise next to the real mismatch.
      return params.type === 'null' ? undefined : { path: at, message: `must be ${String(params.type)}` };
    case 'pattern':
      return { path: at, message: `must match the pattern ${String(params.pattern)}` };
    case 'format':
      return { path: at, message: `must be a valid ${String(params.format)}` };
    case 'if':
      return undefined;
    default:
      return { path: at, message: error.message ?? `fails ${error.keyword}` };
  }
}

function toProblems(errors: readonly ErrorObject[], className: string, prefix: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  const specific = errors.filter((e) => !['anyOf', 'oneOf'].includes(e.keyword));
  for (const error of errors) {
    if (
      ['anyOf', 'oneOf'].includes(error.keyword) &&
      specific.some((other) => other.instancePath.startsWith(error.instancePath) && describeError(other, ''))
    ) {
      continue;
    }
    const problem = describeError(error, className);
    if (!problem) {
      continue;
    }
    const path = `${prefix}${problem.path}`;
    const key = `${path}\u0000${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push({ path, message: problem.message });
    }
  }
  return problems;
}

/**
 * One metadata JSON Schema, analysed and compiled once: which collections exist, which classes they hold,
 * the typecodes of their ids, the slots that refer to other documents, and a validator per class.
 *
 * It accepts the shipped nmdc-lite schema and the published `nmdc_materialized_patterns.schema.json`: a
 * `Database` (in `$defs`, or the document itself) whose array-valued slots are the collections, each
 * `items` being a `$ref` to a class or an `anyOf` of them; typecodes are read from `^(nmdc):bsm-…` id
 * patterns.
 */
export class MetadataSchema {
  readonly title: string;
  readonly version: string;
  readonly idPrefix: string | undefined;
  private readonly collectionsByName = new Map<string, CollectionSpec>();
  private readonly classesByName = new Map<string, ClassSpec>();
  private readonly classesByUri = new Map<string, ClassSpec>();
  private readonly classesByTypecode = new Map<string, ClassSpec[]>();
  private readonly validators = new Map<string, ValidateFunction>();

  private constructor(
    readonly source: string,
    /** The parsed schema file, for features that read more of it (changesheets walk slot ranges). */
    readonly document: Readonly<Json>,
  ) {
    this.title = typeof document.title === 'string' ? document.title : 'metadata schema';
    this.version = typeof document.version === 'string' ? document.version : '0.0.0';
    const defsKey = isObject(document.$defs) ? '$defs' : 'definitions';
    const defs = isObject(document[defsKey]) ? document[defsKey] : {};
    const database = isObject(defs.Database) ? defs.Database : document;
    if (!isObject(database.properties)) {
      throw new SchemaLoadError(source, 'it has neither $defs.Database.properties nor top-level properties');
    }

    const ajv = this.createAjv(document, source);
    const root = typeof document.$id === 'string' ? document.$id : ROOT_KEY;
    const classCollections = new Map<string, string[]>();
    for (const [name, slot] of Object.entries(database.properties)) {
      const classes = this.classesOfCollection(slot, defsKey);
      if (classes.length === 0) {
        continue;
      }
      for (const className of classes) {
        if (!isObject(defs[className])) {
          throw new SchemaLoadError(
            source,
            `collection ${name} refers to ${className}, which is not defined`,
          );
        }
        classCollections.set(className, [...(classCollections.get(className) ?? []), name]);
      }
      const slots = classes.flatMap((c) => Object.keys(((defs[c] as Json).properties as Json) ?? {}));
      const hasId = classes.every((c) => isObject(((defs[c] as Json).properties as Json | undefined)?.id));
      this.collectionsByName.set(name, {
        name,
        ...(isObject(slot) && typeof slot.description === 'string' ? { description: slot.description } : {}),
        classes,
        hasId,
        fields: [...new Set(slots)].sort(),
        indexes: this.indexesOf(name, slot, source),
      });
    }
    if (this.collectionsByName.size === 0) {
      throw new SchemaLoadError(source, 'no slot of its Database holds an array of classes');
    }

    let idPrefix: string | undefined;
    for (const [className, collections] of classCollections) {
      const definition = defs[className] as Json;
      const properties = isObject(definition.properties) ? definition.properties : {};
      const idSlot = isObject(properties.id) ? properties.id : {};
      const { prefix, typecodes } = typecodesIn(idSlot.pattern);
      idPrefix ??= prefix;
      const references = new Map<string, string[]>();
      for (const [slotName, slot] of Object.entries(properties)) {
        if (slotName === 'id') {
          continue;
        }
        const codes = [...new Set(patternsOf(slot).flatMap((p) => typecodesIn(p).typecodes))];
        if (codes.length > 0) {
          references.set(slotName, codes);
        }
      }
      const inferredReferences = typecodes.length === 0;
      if (inferredReferences) {
        for (const [slotName, slot] of Object.entries(properties)) {
          if (slotName !== 'id' && slotName !== 'type' && holdsPlainStrings(slot)) {
            references.set(slotName, []);
          }
        }
      }
      const typeSlot = isObject(properties.type) ? properties.type : {};
      const uri =
        Array.isArray(typeSlot.enum) && typeof typeSlot.enum[0] === 'string'
          ? typeSlot.enum[0]
          : typeof typeSlot.const === 'string'
            ? typeSlot.const
            : className;
      const spec: ClassSpec = {
        name: className,
        uri,
        typecodes,
        ...(prefix ? { idPrefix: prefix } : {}),
        collections,
        references,
        inferredReferences,
      };
      this.classesByName.set(className, spec);
      this.classesByUri.set(uri, spec);
      for (const code of typecodes) {
        this.classesByTypecode.set(code, [...(this.classesByTypecode.get(code) ?? []), spec]);
      }
      let validate: ValidateFunction | undefined;
      try {
        validate = ajv.getSchema(`${root}#/${defsKey}/${escapePointer(className)}`);
      } catch (error) {
        throw new SchemaLoadError(source, `class ${className} does not compile: ${(error as Error).message}`);
      }
      if (!validate) {
        throw new SchemaLoadError(source, `class ${className} could not be compiled`);
      }
      this.validators.set(className, validate);
    }
    this.idPrefix = idPrefix;
  }

  /** Analyses and compiles a parsed schema document; throws {@link SchemaLoadError} naming the problem. */
  static fromDocument(document: unknown, source: string): MetadataSchema {
    if (!isObject(document)) {
      throw new SchemaLoadError(source, 'it is not a JSON object');
    }
    return new MetadataSchema(source, document);
  }

  collections(): CollectionSpec[] {
    return [...this.collectionsByName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  collection(name: string): CollectionSpec | undefined {
    return this.collectionsByName.get(name);
  }

  classes(): ClassSpec[] {
    return [...this.classesByName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A class by name (`Biosample`) or by its type URI (`nmdc:Biosample`). */
  classNamed(name: string): ClassSpec | undefined {
    return this.classesByName.get(name) ?? this.classesByUri.get(name);
  }

  classesForTypecode(typecode: string): ClassSpec[] {
    return this.classesByTypecode.get(typecode) ?? [];
  }

  /** The collections an id can live in, from its typecode alone (no collection is scanned). */
  collectionsForId(id: string): string[] {
    const parsed = parseSchemaId(id);
    if (!parsed || (this.idPrefix && parsed.prefix !== this.idPrefix)) {
      return [];
    }
    return [...new Set(this.classesForTypecode(parsed.typecode).flatMap((c) => c.collections))];
  }

  /** Schema problems of one document, with JSON pointers under `at` (e.g. `/biosample_set/3`). */
  validateDocument(collectionName: string, doc: unknown, at = ''): FieldProblem[] {
    const collection = this.collectionsByName.get(collectionName);
    if (!collection) {
      return [{ path: at || '/', message: `${collectionName} is not a metadata collection` }];
    }
    if (!isObject(doc)) {
      return [{ path: at || '/', message: 'must be a JSON object' }];
    }
    const className = this.classForDocument(collection, doc);
    if (!className) {
      const uris = collection.classes.map((c) => this.classesByName.get(c)?.uri ?? c);
      return [
        {
          path: `${at}/type`,
          message:
            doc.type === undefined
              ? `is required: one of ${uris.join(', ')}`
              : `must be one of ${uris.join(', ')} (the classes ${collection.name} holds)`,
        },
      ];
    }
    const validate = this.validators.get(className);
    if (!validate || validate(doc)) {
      return [];
    }
    return toProblems(validate.errors ?? [], this.classesByName.get(className)?.uri ?? className, at);
  }

  /** The ids a document refers to through its reference slots (`associated_studies`, `has_input`, …). */
  referencesOf(collectionName: string, doc: Json, at = ''): Reference[] {
    const collection = this.collectionsByName.get(collectionName);
    const className = collection ? this.classForDocument(collection, doc) : undefined;
    const spec = className ? this.classesByName.get(className) : undefined;
    if (!spec) {
      return [];
    }
    const found: Reference[] = [];
    const counts = (value: string) => !spec.inferredReferences || parseSchemaId(value) !== undefined;
    for (const slot of spec.references.keys()) {
      const value = doc[slot];
      const base = `${at}/${escapePointer(slot)}`;
      if (typeof value === 'string') {
        if (counts(value)) {
          found.push({ path: base, id: value });
        }
      } else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (typeof item === 'string' && counts(item)) {
            found.push({ path: `${base}/${i}`, id: item });
          }
        });
      }
    }
    return found;
  }

  private classForDocument(collection: CollectionSpec, doc: Json): string | undefined {
    if (collection.classes.length === 1) {
      return collection.classes[0];
    }
    return collection.classes.find((c) => this.classesByName.get(c)?.uri === doc.type);
  }

  private classesOfCollection(slot: unknown, defsKey: string): string[] {
    if (!isObject(slot) || !isObject(slot.items)) {
      return [];
    }
    const refPrefix = `#/${defsKey}/`;
    const refOf = (schema: unknown): string | undefined =>
      isObject(schema) && typeof schema.$ref === 'string' && schema.$ref.startsWith(refPrefix)
        ? schema.$ref.slice(refPrefix.length)
        : undefined;
    const direct = refOf(slot.items);
    if (direct) {
      return [direct];
    }
    const branches = slot.items.anyOf ?? slot.items.oneOf;
    if (!Array.isArray(branches)) {
      return [];
    }
    const names = branches.map(refOf);
    return names.every((n): n is string => n !== undefined) ? names : [];
  }

  private indexesOf(collection: string, slot: unknown, source: string): IndexDeclaration[] {
    const declared = isObject(slot) ? slot['x-indexes'] : undefined;
    if (declared === undefined) {
      return [];
    }
    if (!Array.isArray(declared)) {
      throw new SchemaLoadError(source, `${collection}: x-indexes must be an array`);
    }
    return declared.map((entry, i) => {
      const where = `${collection}: x-indexes/${i}`;
      if (!isObject(entry) || !isObject(entry.key) || Object.keys(entry.key).length === 0) {
        throw new SchemaLoadError(
          source,
          `${where} must be {"key": {"<field>": 1 | -1}, "unique"?: boolean}`,
        );
      }
      const key: Record<string, 1 | -1> = {};
      for (const [field, direction] of Object.entries(entry.key)) {
        if (direction !== 1 && direction !== -1) {
          throw new SchemaLoadError(source, `${where}: the direction of ${field} must be 1 or -1`);
        }
        key[field] = direction;
      }
      const name =
        typeof entry.name === 'string'
          ? entry.name
          : Object.entries(key)
              .map(([field, direction]) => `${field}_${direction}`)
              .join('_');
      return { name, key, unique: entry.unique === true };
    });
  }

  private createAjv(document: Json, source: string): AjvInstance {
    // NMDC's patterns use identity escapes such as `\#` that unicode-mode regular expressions refuse.
    const options: Options = { allErrors: true, strict: false, unicodeRegExp: false };
    const draft = draftOf(document);
    const ajv =
      draft === '2020-12'
        ? new Ajv2020(options)
        : draft === '2019-09'
          ? new Ajv2019(options)
          : new Ajv(options);
    addFormats(ajv);
    try {
      ajv.addSchema(document, typeof document.$id === 'string' ? undefined : ROOT_KEY);
    } catch (error) {
      throw new SchemaLoadError(source, (error as Error).message);
    }
    return ajv;
  }
}
