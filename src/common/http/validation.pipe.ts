import { ValidationPipe, type ValidationError } from '@nestjs/common';

import { ValidationFailedError, type FieldProblem } from '../errors/domain-errors.js';

function flatten(errors: readonly ValidationError[], parent = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const path = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent
        ? `${parent}.${error.property}`
        : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      problems.push({
        path,
        message: message.includes('should not exist')
          ? `${path} is not a recognised field; remove it`
          : message,
      });
    }
    problems.push(...flatten(error.children ?? [], path));
  }
  return problems;
}

/** The hub's one validation pipe: unknown fields are refused, and every bad field is listed. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const problems = flatten(errors);
      const shown = problems
        .slice(0, 5)
        .map((p) => (p.message.startsWith(p.path) ? p.message : `${p.path}: ${p.message}`));
      const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
      return new ValidationFailedError(
        `The request has ${problems.length} invalid field(s): ${shown.join('; ')}${more}`,
        { errors: problems },
      );
    },
  });
}
