import { BadRequestError, UnprocessableError, type FieldProblem } from './domain-errors.js';

/** How many problems one answer lists; a bad 10k-document payload would otherwise answer megabytes. */
export const MAX_LISTED_PROBLEMS = 1000;

/** A 400 whose message names every problem after `summary`, unless `message` says it otherwise. */
export function invalidInput(
  summary: string,
  problems: readonly FieldProblem[],
  code: string,
  message?: string,
): BadRequestError {
  return new BadRequestError(
    message ?? `${summary}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    problems,
    code,
  );
}

/** A 422 listing at most {@link MAX_LISTED_PROBLEMS} problems, its message saying how many there were. */
export function unprocessable(
  summary: string,
  problems: readonly FieldProblem[],
  extra?: Readonly<Record<string, unknown>>,
  code = 'schema_invalid',
): UnprocessableError {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
  const more = problems.length > listed.length ? ` (the first ${listed.length} are listed)` : '';
  return new UnprocessableError(`${summary}: ${problems.length} problem(s)${more}`, listed, code, extra);
}
