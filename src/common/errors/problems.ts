import {
  BadRequestError,
  UnprocessableError,
  type CodedErrorOptions,
  type FieldProblem,
} from './domain-errors.js';

/** How many problems one answer lists; a bad 10k-document payload would otherwise answer megabytes. */
export const MAX_LISTED_PROBLEMS = 1000;

/** A 400 whose message names every problem after `summary`, unless `message` says it otherwise. */
export function invalidInput(
  summary: string,
  problems: readonly FieldProblem[],
  options: { readonly code: string; readonly message?: string },
): BadRequestError {
  return new BadRequestError(
    options.message ?? `${summary}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    { errors: problems, code: options.code },
  );
}

/** A 422 listing at most {@link MAX_LISTED_PROBLEMS} problems, its message saying how many there were. */
export function unprocessable(
  summary: string,
  problems: readonly FieldProblem[],
  options: Omit<CodedErrorOptions, 'errors'> = {},
): UnprocessableError {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
  const more = problems.length > listed.length ? ` (the first ${listed.length} are listed)` : '';
  return new UnprocessableError(`${summary}: ${problems.length} problem(s)${more}`, {
    errors: listed,
    code: options.code ?? 'schema_invalid',
    extra: options.extra,
  });
}
