import type { BadRequestError, FieldProblem } from '../common/errors/domain-errors.js';
import { invalidInput } from '../common/errors/problems.js';
import { checkFilter, type FilterPolicy } from '../common/pagination/filter-policy.js';
import type { CollectionSpec } from './schema/metadata-schema.js';

/** The 400 of a `queries:run` command that names its problems. */
export function invalidQuery(problems: FieldProblem[]): BadRequestError {
  return invalidInput('The command is not allowed', problems, { code: 'invalid_query' });
}

/** The fields a command's filters may name in a collection: its slots, and `_id`. */
export function filterPolicyOf(spec: CollectionSpec): FilterPolicy {
  return { fields: [...spec.fields, '_id'] };
}

/** Aggregation stages `queries:run` runs: the read-only ones FerretDB v1 implements. */
export const ALLOWED_STAGES = [
  '$match',
  '$project',
  '$group',
  '$sort',
  '$limit',
  '$skip',
  '$unwind',
  '$count',
  '$addFields',
  '$set',
  '$unset',
  '$lookup',
  '$replaceWith',
  '$replaceRoot',
] as const;

/**
 * Stages FerretDB v1 does not implement; a pipeline runs in the store up to the first of them and the
 * rest in the hub (see QueriesService). `$group` joins them when it uses an accumulator other than
 * `$sum` or `$count`.
 */
export const IN_PROCESS_STAGES = new Set(['$lookup', '$replaceWith', '$replaceRoot']);
const STORE_ACCUMULATORS = new Set(['$sum', '$count']);

/** The index of the first stage the store cannot run, or the pipeline's length. */
export function firstInProcessStage(pipeline: readonly Record<string, unknown>[]): number {
  const index = pipeline.findIndex((stage) => {
    const [name] = Object.keys(stage);
    if (name && IN_PROCESS_STAGES.has(name)) {
      return true;
    }
    const group = stage.$group;
    return (
      isObject(group) &&
      Object.entries(group).some(
        ([field, accumulator]) =>
          field !== '_id' &&
          isObject(accumulator) &&
          Object.keys(accumulator).some((op) => !STORE_ACCUMULATORS.has(op)),
      )
    );
  });
  return index === -1 ? pipeline.length : index;
}

/** Update operators `queries:run` applies; `$setOnInsert` is absent because upserts are refused. */
export const ALLOWED_UPDATE_OPERATORS = [
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$currentDate',
  '$push',
  '$addToSet',
  '$pull',
  '$pullAll',
  '$pop',
] as const;

/** Operators that run code or reach other collections, refused anywhere in a pipeline expression. */
const FORBIDDEN_EXPRESSION_OPERATORS = new Set([
  '$function',
  '$accumulator',
  '$where',
  '$lookup',
  '$graphLookup',
  '$unionWith',
  '$out',
  '$merge',
  '$documents',
]);

const STAGES = new Set<string>(ALLOWED_STAGES);
const UPDATE_OPERATORS = new Set<string>(ALLOWED_UPDATE_OPERATORS);
const FIELD_PATH = /^[A-Za-z_@][A-Za-z0-9_@-]*(\.[A-Za-z0-9_@-]+)*$/;
const MAX_DEPTH = 12;
/** Fields a stored document's identity hangs on; `queries:run` may not change them. */
const IMMUTABLE_FIELDS = ['id', '_id'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function prefixed(problems: FieldProblem[], at: string): FieldProblem[] {
  return problems.map((p) => ({ path: `${at}${p.path}`, message: p.message }));
}

/** `{field: 0 | 1}` over plain field paths; Mongo's own rules about mixing are left to Mongo. */
export function checkProjection(projection: unknown, at: string): FieldProblem[] {
  if (!isObject(projection)) {
    return [{ path: at, message: 'must be an object of field: 0 or 1' }];
  }
  const problems: FieldProblem[] = [];
  for (const [field, value] of Object.entries(projection)) {
    if (!FIELD_PATH.test(field)) {
      problems.push({ path: `${at}/${field}`, message: 'must be a plain field path (no operators)' });
    } else if (![0, 1, true, false].includes(value as number | boolean)) {
      problems.push({ path: `${at}/${field}`, message: 'must be 0 or 1' });
    }
  }
  return problems;
}

export function checkSort(sort: unknown, at: string): FieldProblem[] {
  if (!isObject(sort) || Object.keys(sort).length === 0) {
    return [{ path: at, message: 'must be a non-empty object of field: 1 or -1' }];
  }
  return Object.entries(sort).flatMap(([field, value]) => {
    if (!FIELD_PATH.test(field)) {
      return [{ path: `${at}/${field}`, message: 'must be a plain field path' }];
    }
    return value === 1 || value === -1 ? [] : [{ path: `${at}/${field}`, message: 'must be 1 or -1' }];
  });
}

function checkExpression(value: unknown, at: string, depth = 0): FieldProblem[] {
  if (depth > MAX_DEPTH) {
    return [{ path: at, message: `is nested deeper than ${MAX_DEPTH} levels` }];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => checkExpression(item, `${at}/${i}`, depth + 1));
  }
  if (!isObject(value)) {
    return [];
  }
  return Object.entries(value).flatMap(([key, child]) =>
    FORBIDDEN_EXPRESSION_OPERATORS.has(key)
      ? [{ path: `${at}/${key}`, message: `${key} is not allowed in queries:run` }]
      : checkExpression(child, `${at}/${key}`, depth + 1),
  );
}

function checkCount(value: unknown, at: string, name: string): FieldProblem[] {
  return Number.isInteger(value) && (value as number) >= 0
    ? []
    : [{ path: at, message: `${name} takes a non-negative integer` }];
}

/**
 * Checks an aggregation pipeline: allow-listed stages only, `$match` restricted like a filter (to the
 * collection's slots until a stage reshapes the documents), and no code-running operators anywhere.
 */
export function checkPipeline(
  pipeline: readonly unknown[],
  policy: FilterPolicy,
  at = '/pipeline',
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  let reshaped = false;
  pipeline.forEach((stage, i) => {
    const stageAt = `${at}/${i}`;
    const keys = isObject(stage) ? Object.keys(stage) : [];
    const name = keys[0];
    if (!isObject(stage) || keys.length !== 1 || name === undefined) {
      problems.push({ path: stageAt, message: 'each stage is an object with exactly one stage operator' });
      return;
    }
    const body = stage[name];
    const bodyAt = `${stageAt}/${name}`;
    if (!STAGES.has(name)) {
      problems.push({
        path: bodyAt,
        message: `stage ${name} is not allowed; allowed stages: ${ALLOWED_STAGES.join(' ')}`,
      });
      return;
    }
    switch (name) {
      case '$match':
        problems.push(...prefixed(checkFilter(body, reshaped ? { fields: 'any' } : policy), bodyAt));
        break;
      case '$sort':
        problems.push(...checkSort(body, bodyAt));
        break;
      case '$limit':
      case '$skip':
        problems.push(...checkCount(body, bodyAt, name));
        break;
      case '$count':
        if (typeof body !== 'string' || !FIELD_PATH.test(body)) {
          problems.push({
            path: bodyAt,
            message: '$count takes the name of the field to write the count to',
          });
        }
        reshaped = true;
        break;
      case '$lookup': {
        const lookup = isObject(body) ? body : {};
        const keys = Object.keys(lookup).sort().join(',');
        if (
          keys !== 'as,foreignField,from,localField' ||
          typeof lookup.from !== 'string' ||
          ![lookup.localField, lookup.foreignField, lookup.as].every(
            (f) => typeof f === 'string' && FIELD_PATH.test(f),
          )
        ) {
          problems.push({
            path: bodyAt,
            message:
              '$lookup takes exactly {from: "<metadata collection>", localField, foreignField, as} (field paths)',
          });
        }
        reshaped = true;
        break;
      }
      case '$unwind':
        if (
          !(typeof body === 'string' && body.startsWith('$')) &&
          !(isObject(body) && typeof body.path === 'string')
        ) {
          problems.push({ path: bodyAt, message: '$unwind takes "$<field>" or {path: "$<field>", …}' });
        }
        problems.push(...checkExpression(body, bodyAt));
        reshaped = true;
        break;
      default:
        problems.push(...checkExpression(body, bodyAt));
        reshaped = true;
    }
  });
  return problems;
}

function targetsImmutable(field: string): boolean {
  return IMMUTABLE_FIELDS.some((f) => field === f || field.startsWith(`${f}.`));
}

/** An update document: operators from the allow-list only, and never touching `id` or `_id`. */
export function checkUpdate(update: unknown, at: string): FieldProblem[] {
  if (!isObject(update) || Object.keys(update).length === 0) {
    return [{ path: at, message: 'must be an update document of operators such as {"$set": {…}}' }];
  }
  const problems: FieldProblem[] = [];
  for (const [operator, fields] of Object.entries(update)) {
    const opAt = `${at}/${operator}`;
    if (!operator.startsWith('$')) {
      problems.push({
        path: opAt,
        message: 'replacement documents are not accepted; use update operators such as $set',
      });
      continue;
    }
    if (!UPDATE_OPERATORS.has(operator)) {
      problems.push({
        path: opAt,
        message: `operator ${operator} is not allowed; use one of ${ALLOWED_UPDATE_OPERATORS.join(' ')}`,
      });
      continue;
    }
    if (!isObject(fields) || Object.keys(fields).length === 0) {
      problems.push({ path: opAt, message: `${operator} takes a non-empty object of fields` });
      continue;
    }
    for (const [field, value] of Object.entries(fields)) {
      const renamedTo = operator === '$rename' && typeof value === 'string' ? value : undefined;
      if (targetsImmutable(field) || (renamedTo !== undefined && targetsImmutable(renamedTo))) {
        problems.push({ path: `${opAt}/${field}`, message: 'id and _id cannot be changed' });
      } else if (field.startsWith('$') || field.includes('.$')) {
        problems.push({
          path: `${opAt}/${field}`,
          message: 'positional and operator paths are not supported',
        });
      }
    }
    problems.push(...checkExpression(fields, opAt));
  }
  return problems;
}

/**
 * Conditions the store would answer wrongly, refused rather than answered wrongly: FerretDB v1 matches
 * nothing with `$elemMatch` over sub-documents (`{"claims": {"$elemMatch": {"site_id": "x"}}}`), so only
 * the form over values (`{"$elemMatch": {"$eq": "x"}}`) is run; dotted paths query sub-documents.
 */
export function checkStoreEvaluable(filter: unknown, at: string, depth = 0): FieldProblem[] {
  if (depth > MAX_DEPTH) {
    return [];
  }
  if (Array.isArray(filter)) {
    return filter.flatMap((item, i) => checkStoreEvaluable(item, `${at}/${i}`, depth + 1));
  }
  if (!isObject(filter)) {
    return [];
  }
  return Object.entries(filter).flatMap(([key, value]) => {
    if (key === '$elemMatch' && isObject(value) && Object.keys(value).some((k) => !k.startsWith('$'))) {
      return [
        {
          path: `${at}/${key}`,
          message:
            '$elemMatch over sub-documents is not supported here; use $elemMatch over values ({"$eq": …}) or dotted paths',
        },
      ];
    }
    return checkStoreEvaluable(value, `${at}/${key}`, depth + 1);
  });
}
