import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

/**
 * JSON Schemas for DRS answers, written from the GA4GH DRS 1.5.0 OpenAPI components and, for strict mode,
 * from the 1.2.0 schemas the drs-compliance-suite validates with (`additionalProperties: false` on
 * service-info and its `type`, access methods, access URLs, checksums and contents objects).
 */
type Version = '1.2' | '1.5';

const string = { type: 'string' } as const;
const strings = { type: 'array', items: string } as const;
const integer = { type: 'integer', minimum: 0 } as const;

function checksum(version: Version): AnySchema {
  return {
    type: 'object',
    required: ['checksum', 'type'],
    properties: { checksum: string, type: string },
    ...(version === '1.2' ? { additionalProperties: false } : {}),
  };
}

function accessUrl(version: Version): AnySchema {
  return {
    type: 'object',
    required: ['url'],
    properties: { url: string, headers: strings },
    ...(version === '1.2' ? { additionalProperties: false } : {}),
  };
}

const authorizations: AnySchema = {
  type: 'object',
  properties: {
    drs_object_id: string,
    supported_types: {
      type: 'array',
      items: { enum: ['None', 'BasicAuth', 'BearerAuth', 'PassportAuth'] },
    },
    passport_auth_issuers: strings,
    bearer_auth_issuers: strings,
  },
};

const ACCESS_TYPES = ['s3', 'gs', 'ftp', 'gsiftp', 'globus', 'htsget', 'https', 'file'];

function accessMethod(version: Version): AnySchema {
  const base = {
    type: 'object',
    required: ['type'],
    // The spec's prose rule: at least one of the two.
    anyOf: [{ required: ['access_url'] }, { required: ['access_id'] }],
  };
  if (version === '1.2') {
    return {
      ...base,
      properties: {
        type: { enum: ACCESS_TYPES },
        access_url: accessUrl('1.2'),
        access_id: string,
        region: string,
      },
      additionalProperties: false,
    };
  }
  return {
    ...base,
    properties: {
      type: { enum: ACCESS_TYPES },
      access_url: accessUrl('1.5'),
      access_id: string,
      region: string,
      authorizations,
      cloud: string,
      available: { type: 'boolean' },
    },
  };
}

function contentsObject(version: Version): AnySchema {
  return {
    $id: `contents-${version}`,
    type: 'object',
    required: ['name'],
    properties: {
      name: string,
      id: string,
      drs_uri: { type: 'array', items: { type: 'string', pattern: '^drs://' } },
      contents: { type: 'array', items: { $ref: `contents-${version}` } },
    },
    ...(version === '1.2' ? { additionalProperties: false } : {}),
  };
}

function drsObject(version: Version, bundle: boolean): AnySchema {
  return {
    type: 'object',
    required: ['id', 'self_uri', 'size', 'created_time', 'checksums', ...(bundle ? ['contents'] : [])],
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9._~-]+$' },
      name: string,
      self_uri: { type: 'string', pattern: '^drs://[^/:]+/[A-Za-z0-9._~-]+$' },
      size: integer,
      created_time: { type: 'string', format: 'date-time' },
      updated_time: { type: 'string', format: 'date-time' },
      version: string,
      mime_type: string,
      checksums: { type: 'array', minItems: 1, items: checksum(version) },
      access_methods: { type: 'array', minItems: 1, items: accessMethod(version) },
      contents: { type: 'array', items: contentsObject(version) },
      description: string,
      aliases: strings,
    },
  };
}

const SERVICE_TYPE = {
  type: 'object',
  required: ['group', 'artifact', 'version'],
  properties: { group: { const: 'org.ga4gh' }, artifact: { const: 'drs' }, version: string },
  additionalProperties: false,
} as const;

const SERVICE_BASE = {
  id: string,
  name: string,
  type: SERVICE_TYPE,
  description: string,
  organization: {
    type: 'object',
    required: ['name', 'url'],
    properties: { name: string, url: { type: 'string', format: 'uri' } },
  },
  contactUrl: string,
  documentationUrl: { type: 'string', format: 'uri' },
  createdAt: { type: 'string', format: 'date-time' },
  updatedAt: { type: 'string', format: 'date-time' },
  environment: string,
  version: string,
} as const;

function serviceInfo(version: Version): AnySchema {
  if (version === '1.2') {
    return {
      type: 'object',
      required: ['id', 'name', 'type', 'organization', 'version'],
      properties: SERVICE_BASE,
      additionalProperties: false,
    };
  }
  return {
    type: 'object',
    required: ['id', 'name', 'type', 'organization', 'version', 'maxBulkRequestLength', 'drs'],
    properties: {
      ...SERVICE_BASE,
      maxBulkRequestLength: { type: 'integer', minimum: 1 },
      drs: {
        type: 'object',
        required: ['maxBulkRequestLength'],
        properties: {
          maxBulkRequestLength: { type: 'integer', minimum: 1 },
          objectCount: integer,
          totalObjectSize: integer,
        },
      },
    },
  };
}

/** Our promise for every DRS error: exactly the two Error fields, both set. */
const drsError: AnySchema = {
  type: 'object',
  required: ['msg', 'status_code'],
  properties: { msg: string, status_code: { type: 'integer', minimum: 400, maximum: 599 } },
  additionalProperties: false,
};

const summary = {
  type: 'object',
  required: ['requested', 'resolved', 'unresolved'],
  properties: { requested: integer, resolved: integer, unresolved: integer },
} as const;

const unresolved = {
  type: 'array',
  items: {
    type: 'object',
    required: ['error_code', 'object_ids'],
    properties: { error_code: { type: 'integer' }, object_ids: strings },
  },
} as const;

function bulkObjects(version: Version): AnySchema {
  return {
    type: 'object',
    required: ['summary', 'unresolved_drs_objects', 'resolved_drs_object'],
    properties: {
      summary,
      unresolved_drs_objects: unresolved,
      resolved_drs_object: { type: 'array', items: drsObject(version, false) },
    },
  };
}

const bulkAuthorizations: AnySchema = {
  type: 'object',
  required: ['summary', 'unresolved_drs_objects', 'resolved_drs_object'],
  properties: {
    summary,
    unresolved_drs_objects: unresolved,
    resolved_drs_object: { type: 'array', items: authorizations },
  },
};

const bulkAccess: AnySchema = {
  type: 'object',
  required: ['summary', 'unresolved_drs_objects', 'resolved_drs_object_access_urls'],
  properties: {
    summary,
    unresolved_drs_objects: unresolved,
    resolved_drs_object_access_urls: {
      type: 'array',
      items: {
        type: 'object',
        required: ['url'],
        properties: { drs_object_id: string, drs_access_id: string, url: string, headers: strings },
      },
    },
  },
};

export interface DrsSchemas {
  serviceInfo: ValidateFunction;
  object: ValidateFunction;
  bundle: ValidateFunction;
  accessUrl: ValidateFunction;
  authorizations: ValidateFunction;
  error: ValidateFunction;
  bulkObjects: ValidateFunction;
  bulkAuthorizations: ValidateFunction;
  bulkAccess: ValidateFunction;
}

export function drsSchemas(version: Version): DrsSchemas {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return {
    serviceInfo: ajv.compile(serviceInfo(version)),
    object: ajv.compile(drsObject(version, false)),
    bundle: ajv.compile(drsObject(version, true)),
    accessUrl: ajv.compile(accessUrl(version)),
    authorizations: ajv.compile(authorizations),
    error: ajv.compile(drsError),
    bulkObjects: ajv.compile(bulkObjects(version)),
    bulkAuthorizations: ajv.compile(bulkAuthorizations),
    bulkAccess: ajv.compile(bulkAccess),
  };
}

/** Asserts `body` validates and holds no JSON null anywhere (optional fields are omitted instead). */
export function expectValid(validate: ValidateFunction, body: unknown): void {
  const ok = validate(body);
  expect(ok ? [] : validate.errors).toEqual([]);
  expect(JSON.stringify(body)).not.toMatch(/:null[,}\]]/);
}
