import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

import type { ConfigProblem } from './errors.js';

/** A JSON Schema (draft-07 subset Ajv understands) describing an op's or a resource's config. */
export type ConfigSchema = Readonly<Record<string, unknown>>;

// One instance for every definition: compiled validators are cached by schema identity. `useDefaults`
// fills defaults the way Dagster's config system does, so ops see a complete config.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });

export interface CompiledConfigSchema {
  readonly schema: ConfigSchema;
  /** Validates a copy of `value` (defaults applied) and reports problems under `path`. */
  validate(value: unknown, path: string): { value: unknown; problems: ConfigProblem[] };
}

function joinPath(base: string, pointer: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [base, ...parts].filter((p) => p !== '').join('.');
}

function describeAjvError(error: ErrorObject, base: string): ConfigProblem {
  const at = joinPath(base, error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return {
        path: `${at}.${String(params.additionalProperty)}`,
        message: 'is not a recognised key; remove it',
      };
    case 'required':
      return { path: `${at}.${String(params.missingProperty)}`, message: 'is required' };
    default:
      return { path: at, message: error.message ?? `fails ${error.keyword}` };
  }
}

/** Compiles a config schema once, at definition time, so a broken schema fails when the op is defined. */
export function compileConfigSchema(schema: ConfigSchema): CompiledConfigSchema {
  const validator: ValidateFunction = ajv.compile(schema);
  return {
    schema,
    validate(value, path) {
      const copy: unknown = value === undefined ? {} : structuredClone(value);
      if (validator(copy)) {
        return { value: copy, problems: [] };
      }
      return { value: copy, problems: (validator.errors ?? []).map((e) => describeAjvError(e, path)) };
    },
  };
}

/** True when an empty object satisfies the schema, i.e. the caller may omit this config entirely. */
export function acceptsEmptyConfig(compiled: CompiledConfigSchema): boolean {
  return compiled.validate({}, '').problems.length === 0;
}
