import { BadRequestError } from '../common/errors/domain-errors.js';
import { regexProblem } from '../common/pagination/regex-check.js';

/** Comparison prefixes of the finder filter syntax, longest first so `<=` is not read as `<` + `=…`. */
const COMPARISONS: ReadonlyArray<[string, string]> = [
  ['>=', '$gte'],
  ['<=', '$lte'],
  ['>', '$gt'],
  ['<', '$lt'],
];
const SEARCH_SUFFIX = '.search';

function values(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function asNumberIfNumeric(text: string): string | number {
  const trimmed = text.trim();
  const number = Number(trimmed);
  return trimmed !== '' && Number.isFinite(number) ? number : text;
}

/**
 * Turns the finders' `attr:value[,attr:value]*` filter into a MongoDB query: `attr:>=3.5` compares
 * numerically, `attr.search:regex` matches a regular expression, anything else is string equality.
 * A value runs to the next comma, so values cannot contain commas.
 */
export function parseFindFilter(raw: string | undefined): Record<string, unknown> {
  if (!raw) {
    return {};
  }
  const clauses: Record<string, unknown>[] = [];
  for (const pair of values(raw)) {
    const colon = pair.indexOf(':');
    const attr = colon > 0 ? pair.slice(0, colon).trim() : '';
    if (!attr) {
      throw new BadRequestError(
        `filter ${JSON.stringify(pair)} is not attribute:value; write filter=attribute:value[,attribute:value]*`,
        {
          errors: [{ path: 'filter', message: `malformed pair ${JSON.stringify(pair)}` }],
          code: 'invalid_filter',
        },
      );
    }
    const spec = pair.slice(colon + 1).trim();
    if (attr.endsWith(SEARCH_SUFFIX) && attr.length > SEARCH_SUFFIX.length) {
      const problem = regexProblem(spec);
      if (problem) {
        throw new BadRequestError(
          `filter ${JSON.stringify(pair)}: ${JSON.stringify(spec)} is not a valid regular expression: ${problem}`,
          {
            errors: [{ path: 'filter', message: `${attr}: not a valid regular expression (${problem})` }],
            code: 'invalid_filter',
          },
        );
      }
      clauses.push({ [attr.slice(0, -SEARCH_SUFFIX.length)]: { $regex: spec } });
      continue;
    }
    const comparison = COMPARISONS.find(([prefix]) => spec.startsWith(prefix));
    clauses.push(
      comparison
        ? { [attr]: { [comparison[1]]: asNumberIfNumeric(spec.slice(comparison[0].length)) } }
        : { [attr]: spec },
    );
  }
  const attrs = clauses.map((clause) => Object.keys(clause)[0]);
  const repeated = attrs.length !== new Set(attrs).size;
  if (clauses.length === 1) {
    return clauses[0] ?? {};
  }
  return repeated ? { $and: clauses } : (Object.assign({}, ...clauses) as Record<string, unknown>);
}

/** `attr[:asc|desc][,…]` → `[[attr, 1 | -1], …]`. */
export function parseFindSort(raw: string | undefined): Array<[string, 1 | -1]> {
  if (!raw) {
    return [];
  }
  return values(raw).map((part) => {
    const [attr = '', direction = 'asc', ...rest] = part.split(':').map((p) => p.trim());
    if (!attr || rest.length > 0 || !['asc', 'desc', ''].includes(direction)) {
      throw new BadRequestError(`sort ${JSON.stringify(part)} is not attribute[:asc|desc]`, {
        errors: [{ path: 'sort', message: 'use attribute, attribute:asc or attribute:desc' }],
        code: 'invalid_sort',
      });
    }
    return [attr, direction === 'desc' ? -1 : 1];
  });
}

export function parseFields(raw: string | undefined): string | undefined {
  return raw ? values(raw).join(',') : undefined;
}
