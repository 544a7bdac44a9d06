import { BadRequestError, type FieldProblem } from '../errors/domain-errors.js';
import { regexProblem } from './regex-check.js';

export const ALLOWED_QUERY_OPERATORS = [
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$regex',
  '$options',
  '$size',
  '$elemMatch',
  '$not',
  '$and',
  '$or',
] as const;

/** The operators that apply to one field; `$and` and `$or` combine whole filters instead. */
const FIELD_OPERATORS = new Set<string>(
  ALLOWED_QUERY_OPERATORS.filter((operator) => operator !== '$and' && operator !== '$or'),
);
/**
 * Operators FerretDB v1 evaluates wrongly (measured on 1.24: `$elemMatch` over an array of documents
 * matches nothing, so `$not` + `$elemMatch` matches everything); a filter using them is matched in
 * process (see {@link needsInProcessMatch}).
 */
const IN_PROCESS_OPERATORS = new Set(['$elemMatch', '$not']);
const LOGICAL_OPERATORS = new Set(['$and', '$or']);
const MAX_DEPTH = 8;
const MAX_ARRAY = 1000;
export const MAX_REGEX_LENGTH = 256;

export interface FilterPolicy {
  /** Fields a filter may name (a dotted path under one of them is allowed too); `'any'` allows every field. */
  readonly fields: readonly string[] | 'any';
}

const LISTED_AT_MOST = 40;

/** Names for an error message; a schema class can have hundreds of slots, so long lists are cut. */
function listSome(names: readonly string[]): string {
  const shown = names.slice(0, LISTED_AT_MOST).join(', ');
  return names.length > LISTED_AT_MOST ? `${shown}, … (${names.length} in all)` : shown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fieldAllowed(field: string, policy: FilterPolicy): boolean {
  if (policy.fields === 'any') {
    return true;
  }
  return policy.fields.some((allowed) => field === allowed || field.startsWith(`${allowed}.`));
}

function checkLiteral(value: unknown, path: string, problems: FieldProblem[], depth: number): void {
  if (depth > MAX_DEPTH) {
    problems.push({ path, message: `the filter is nested deeper than ${MAX_DEPTH} levels` });
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_ARRAY) {
      problems.push({ path, message: `arrays in a filter may hold at most ${MAX_ARRAY} values` });
    }
    value.forEach((item, i) => checkLiteral(item, `${path}/${i}`, problems, depth + 1));
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key.startsWith('$')) {
        problems.push({ path: `${path}/${key}`, message: `operator ${key} is not allowed here` });
        continue;
      }
      if (key.includes('\0')) {
        // BSON ends a field name at NUL, so the driver cannot even send such a document.
        problems.push({ path: `${path}/${key}`, message: 'field names may not contain NUL characters' });
        continue;
      }
      checkLiteral(child, `${path}/${key}`, problems, depth + 1);
    }
  }
}

function checkFieldCondition(
  field: string,
  condition: unknown,
  path: string,
  problems: FieldProblem[],
  depth: number,
): void {
  if (!isPlainObject(condition) || !Object.keys(condition).some((k) => k.startsWith('$'))) {
    checkLiteral(condition, path, problems, depth + 1);
    return;
  }
  for (const [operator, operand] of Object.entries(condition)) {
    const at = `${path}/${operator}`;
    if (!operator.startsWith('$')) {
      problems.push({
        path: at,
        message: `cannot mix operators and field names in the condition on ${field}`,
      });
      continue;
    }
    if (!FIELD_OPERATORS.has(operator)) {
      problems.push({
        path: at,
        message: `operator ${operator} is not allowed; use one of ${ALLOWED_QUERY_OPERATORS.join(' ')}`,
      });
      continue;
    }
    switch (operator) {
      case '$in':
      case '$nin':
        if (!Array.isArray(operand)) {
          problems.push({ path: at, message: `${operator} takes an array` });
        } else {
          checkLiteral(operand, at, problems, depth + 1);
        }
        break;
      case '$exists':
        if (typeof operand !== 'boolean') {
          problems.push({ path: at, message: '$exists takes true or false' });
        }
        break;
      case '$regex':
        if (typeof operand !== 'string') {
          problems.push({ path: at, message: '$regex takes a string' });
        } else if (operand.length > MAX_REGEX_LENGTH) {
          problems.push({ path: at, message: `$regex may be at most ${MAX_REGEX_LENGTH} characters` });
        } else {
          const problem = regexProblem(operand);
          if (problem) {
            problems.push({ path: at, message: `$regex is not a valid regular expression: ${problem}` });
          }
        }
        break;
      case '$size':
        if (!Number.isInteger(operand) || (operand as number) < 0) {
          problems.push({ path: at, message: '$size takes a non-negative integer' });
        }
        break;
      case '$elemMatch':
        if (!isPlainObject(operand) || Object.keys(operand).length === 0) {
          problems.push({ path: at, message: '$elemMatch takes a non-empty query object' });
        } else if (Object.keys(operand).every((k) => k.startsWith('$') && FIELD_OPERATORS.has(k))) {
          // Conditions on the elements themselves, e.g. {"$elemMatch": {"$eq": "x"}}.
          checkFieldCondition(field, operand, at, problems, depth + 1);
        } else {
          // A query over the fields of each element; they sit under the field, which is allowed.
          checkQuery(operand, at, { fields: 'any' }, problems, depth + 1);
        }
        break;
      case '$not':
        if (!isPlainObject(operand) || !Object.keys(operand).some((k) => k.startsWith('$'))) {
          problems.push({
            path: at,
            message: '$not takes an operator expression, e.g. {"$not": {"$size": 0}}',
          });
        } else {
          checkFieldCondition(field, operand, at, problems, depth + 1);
        }
        break;
      case '$options':
        // Not x: FerretDB does not implement extended (whitespace-ignoring) patterns.
        if (typeof operand !== 'string' || !/^[ims]{0,3}$/.test(operand) || !('$regex' in condition)) {
          problems.push({
            path: at,
            message: '$options goes with $regex and may only hold the regular expression flags i, m and s',
          });
        }
        break;
      default:
        checkLiteral(operand, at, problems, depth + 1);
    }
  }
}

function checkQuery(
  query: unknown,
  path: string,
  policy: FilterPolicy,
  problems: FieldProblem[],
  depth: number,
): void {
  if (depth > MAX_DEPTH) {
    problems.push({ path, message: `the filter is nested deeper than ${MAX_DEPTH} levels` });
    return;
  }
  if (!isPlainObject(query)) {
    problems.push({ path: path || '/', message: 'expected a JSON object' });
    return;
  }
  for (const [key, value] of Object.entries(query)) {
    const at = `${path}/${key}`;
    if (key.startsWith('$')) {
      if (!LOGICAL_OPERATORS.has(key)) {
        problems.push({
          path: at,
          message: `operator ${key} is not allowed; use one of ${ALLOWED_QUERY_OPERATORS.join(' ')}`,
        });
        continue;
      }
      if (!Array.isArray(value) || value.length === 0) {
        problems.push({ path: at, message: `${key} takes a non-empty array of queries` });
        continue;
      }
      value.forEach((clause, i) => checkQuery(clause, `${at}/${i}`, policy, problems, depth + 1));
      continue;
    }
    if (key.includes('$') || key.includes('\0') || key === '') {
      problems.push({ path: at, message: `"${key}" is not a valid field name` });
      continue;
    }
    if (!fieldAllowed(key, policy)) {
      const allowed = policy.fields === 'any' ? '' : `; filterable fields: ${listSome(policy.fields)}`;
      problems.push({ path: at, message: `field "${key}" cannot be filtered on${allowed}` });
      continue;
    }
    checkFieldCondition(key, value, at, problems, depth);
  }
}

/**
 * Checks an already parsed MongoDB query against the operator allow-list and the policy's fields;
 * returns every problem, each with a JSON pointer into the query.
 */
export function checkFilter(query: unknown, policy: FilterPolicy): FieldProblem[] {
  const problems: FieldProblem[] = [];
  checkQuery(query, '', policy, problems, 0);
  return problems;
}

/** True when the filter uses an operator the database cannot be trusted with; see IN_PROCESS_OPERATORS. */
export function needsInProcessMatch(filter: unknown): boolean {
  if (Array.isArray(filter)) {
    return filter.some(needsInProcessMatch);
  }
  if (!isPlainObject(filter)) {
    return false;
  }
  return Object.entries(filter).some(
    ([key, value]) => IN_PROCESS_OPERATORS.has(key) || needsInProcessMatch(value),
  );
}

/**
 * Renames the fields a filter names (`claims` → `claim_records`, and `claims.x` → `claim_records.x`), for
 * lists whose public field is stored under another name. Only field names are renamed: the fields inside
 * an `$elemMatch` belong to the elements and keep theirs.
 */
export function renameFilterFields(
  filter: Record<string, unknown>,
  renames: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const rename = (field: string): string => {
    for (const [from, to] of Object.entries(renames)) {
      if (field === from || field.startsWith(`${from}.`)) {
        return `${to}${field.slice(from.length)}`;
      }
    }
    return field;
  };
  return Object.fromEntries(
    Object.entries(filter).map(([key, value]) =>
      key === '$and' || key === '$or'
        ? [key, (value as Record<string, unknown>[]).map((clause) => renameFilterFields(clause, renames))]
        : [rename(key), value],
    ),
  );
}

/**
 * Parses a `filter` query parameter into a MongoDB query that only uses allow-listed operators on
 * allowed fields. Every problem is reported, each with a JSON pointer into the filter.
 */
export function parseFilter(raw: string | undefined, policy: FilterPolicy): Record<string, unknown> {
  if (raw === undefined || raw.trim() === '') {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new BadRequestError(`filter is not valid JSON: ${(error as Error).message}`, {
      errors: [{ path: 'filter', message: 'invalid JSON' }],
      code: 'invalid_filter',
    });
  }
  const problems = checkFilter(parsed, policy);
  if (problems.length > 0) {
    throw new BadRequestError(
      `filter is not allowed: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      {
        errors: problems.map((p) => ({ path: `filter${p.path}`, message: p.message })),
        code: 'invalid_filter',
      },
    );
  }
  return parsed as Record<string, unknown>;
}

/** Parses a `projection` parameter, refusing fields that are not part of the resource. */
export function parseProjection(
  raw: string | undefined,
  allowed: readonly string[],
  idField: string,
): string[] | undefined {
  if (!raw) {
    return undefined;
  }
  const unquoted = raw.trim().replace(/^"(.*)"$/s, '$1');
  const fields = [...new Set(unquoted.split(',').map((f) => f.trim()))];
  const unknown = fields.filter((f) => !allowed.some((a) => f === a || f.startsWith(`${a}.`)));
  if (unknown.length > 0) {
    throw new BadRequestError(
      `projection names unknown field(s) ${unknown.join(', ')}; available: ${listSome(allowed)}`,
      {
        errors: unknown.map((f) => ({ path: 'projection', message: `unknown field ${f}` })),
        code: 'invalid_projection',
      },
    );
  }
  return fields.includes(idField) ? fields : [idField, ...fields];
}

/** Keeps only the projected top-level fields (dotted paths keep their top-level field). */
export function applyProjection<T extends object>(
  resource: T,
  fields: readonly string[] | undefined,
): Partial<T> {
  if (!fields) {
    return resource;
  }
  const tops = new Set(fields.map((f) => f.split('.', 1)[0]));
  return Object.fromEntries(Object.entries(resource).filter(([key]) => tops.has(key))) as Partial<T>;
}
