import Ajv, { type ErrorObject } from 'ajv';

import type { FieldError, Job } from './api';

/** The JSON Schema of a job's whole run config, assembled from its ops' and resources' config schemas. */
export function runConfigSchema(job: Job): Record<string, unknown> {
  const section = (entries: [string, Record<string, unknown> | undefined][]) => ({
    type: 'object',
    properties: Object.fromEntries(
      entries.map(([name, schema]) => [
        name,
        {
          type: 'object',
          properties: schema ? { config: schema } : {},
          additionalProperties: false,
        },
      ]),
    ),
    additionalProperties: false,
  });
  return {
    type: 'object',
    properties: {
      ops: section(job.graph.nodes.map((n) => [n.name, n.configSchema])),
      resources: section(job.resources.map((r) => [r.key, r.configSchema])),
      execution: { type: 'object' },
    },
    additionalProperties: false,
  };
}

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false });

function pathOf(error: ErrorObject): string {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties') {
    segments.push(String((error.params as { additionalProperty: string }).additionalProperty));
  }
  if (error.keyword === 'required') {
    segments.push(String((error.params as { missingProperty: string }).missingProperty));
  }
  return ['runConfig', ...segments].join('.');
}

function messageOf(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') {
    return 'is not a known key here';
  }
  if (error.keyword === 'required') {
    return 'is required';
  }
  return error.message ?? 'is invalid';
}

/** Checks a run config against the job's schema in the browser, naming each bad key as the API would. */
export function validateRunConfig(job: Job, config: unknown): FieldError[] {
  const validate = ajv.compile(runConfigSchema(job));
  if (validate(config)) {
    return [];
  }
  return (validate.errors ?? []).map((e) => ({ path: pathOf(e), message: messageOf(e) }));
}

/** A starting config: each op with a config schema, filled with the schema's defaults. */
export function scaffold(job: Job): Record<string, unknown> {
  const ops: Record<string, unknown> = {};
  for (const node of job.graph.nodes) {
    const properties = (node.configSchema?.properties ?? {}) as Record<string, { default?: unknown }>;
    const config = Object.fromEntries(
      Object.entries(properties)
        .filter(([, p]) => p.default !== undefined)
        .map(([k, p]) => [k, p.default]),
    );
    if (node.configSchema) {
      ops[node.name] = { config };
    }
  }
  return Object.keys(ops).length > 0 ? { ops } : {};
}
