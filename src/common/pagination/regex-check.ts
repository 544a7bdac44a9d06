import { BadRequestError } from '../errors/domain-errors.js';

/**
 * Why a pattern cannot be sent to the database as `$regex`, or undefined when it can. MongoDB compiles
 * PCRE and FerretDB Go's RE2, so a pattern must compile as a JavaScript RegExp and stay inside what both
 * engines share: RE2 has no lookaround, backreferences, atomic groups or possessive quantifiers.
 * The scan for those goes once, left to right, honouring escapes and character classes.
 */
export function regexProblem(pattern: string): string | undefined {
  const unsupported = unsupportedConstruct(pattern);
  if (unsupported) {
    return unsupported;
  }
  try {
    new RegExp(pattern);
  } catch (error) {
    return `it does not compile (${error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : 'invalid'})`;
  }
  return undefined;
}

/** Letter escapes RE2 and PCRE both read the same way; JavaScript reads others as the plain letter. */
const SUPPORTED_ESCAPES = new Set([...'AbBdDsSwWzfnrtvxpP']);

/**
 * Runs a query, answering 400 when the database cannot compile a `$regex` in the filter: the checks
 * above catch the common cases up front, this the rest (the engines differ in corners no scan covers).
 */
export async function refusingBadRegex<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    if (isDatabaseRegexError(error)) {
      throw new BadRequestError(
        `filter holds a regular expression the database cannot compile: ${(error as Error).message}`,
        { errors: [{ path: 'filter', message: 'not a usable regular expression' }], code: 'invalid_filter' },
      );
    }
    throw error;
  }
}

/** True for the error MongoDB and FerretDB answer when `$regex` (or its `$options`) does not work there. */
export function isDatabaseRegexError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) {
    return false;
  }
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    code === 51091 ||
    (typeof message === 'string' &&
      ((code === 2 && /regular expression/i.test(message)) || /^option '.' not implemented/.test(message)))
  );
}

function unsupportedConstruct(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    const next = pattern[i + 1];
    if (char === '\\') {
      if (!inClass && next !== undefined && /[1-9]/.test(next)) {
        return `backreferences such as \\${next} are not supported`;
      }
      if (!inClass && next === 'k' && pattern[i + 2] === '<') {
        return 'named backreferences (\\k<name>) are not supported';
      }
      if (next !== undefined && /[A-Za-z]/.test(next) && !SUPPORTED_ESCAPES.has(next)) {
        return `the escape \\${next} is not supported (escape only punctuation, or use one of \\${[...SUPPORTED_ESCAPES].join(' \\')})`;
      }
      i++;
      continue;
    }
    if (inClass) {
      if (char === ']') {
        inClass = false;
      }
      continue;
    }
    if (char === '[') {
      inClass = true;
      // A ] right after [ or [^ is a literal in the class, not its end.
      if (pattern[i + 1] === '^') {
        i++;
      }
      if (pattern[i + 1] === ']') {
        i++;
      }
      continue;
    }
    if (char === '(' && next === '?') {
      const kind = pattern[i + 2];
      const after = pattern[i + 3];
      if (kind === '=' || kind === '!' || (kind === '<' && (after === '=' || after === '!'))) {
        return 'lookahead and lookbehind groups ((?=…), (?!…), (?<=…), (?<!…)) are not supported';
      }
      if (kind === '>') {
        return 'atomic groups ((?>…)) are not supported';
      }
    }
    if ((char === '*' || char === '+' || char === '?' || char === '}') && next === '+') {
      return 'possessive quantifiers (such as a*+) are not supported';
    }
  }
  return undefined;
}
