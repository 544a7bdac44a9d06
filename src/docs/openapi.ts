import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

import { normaliseOpenApiPath } from '../common/http/routes.js';
import type { AppConfig } from '../config/app-config.js';

const DESCRIPTION = `Runtime Hub is a data-management hub: it resolves GA4GH DRS ids to download URLs, accepts
changesheets for metadata, lets remote workflow sites claim jobs and report their results, and runs an
embedded orchestrator.

## Errors
DRS routes (\`/ga4gh/drs/v1/…\`) answer errors as \`{msg, status_code}\`, as the DRS specification requires.
Every other route answers RFC 7807 \`application/problem+json\` documents:
\`{type, title, status, detail, instance, code, errors?, requestId}\`. Quote the \`requestId\` (also sent as
the \`X-Request-Id\` header) when reporting a problem.`;

/** Recursively sorts object keys so the committed document only changes when the API does. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeysDeep);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeysDeep((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export function buildOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Runtime Hub API')
    .setDescription(DESCRIPTION)
    .setVersion(config.service.version)
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A token from POST /token' },
      'bearer',
    )
    .addOAuth2(
      {
        type: 'oauth2',
        description:
          'OAuth2 token endpoint of this hub: users use the password grant, site clients client_credentials',
        flows: {
          password: { tokenUrl: '/token', scopes: {} },
          clientCredentials: { tokenUrl: '/token', scopes: {} },
        },
      },
      'oauth2',
    );
  const document = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (_controllerKey: string, methodKey: string) => methodKey,
  });
  document.paths = Object.fromEntries(
    Object.entries(document.paths).map(([path, item]) => [normaliseOpenApiPath(path), item]),
  );
  assertUniqueOperationIds(document);
  return sortKeysDeep(document) as OpenAPIObject;
}

function assertUniqueOperationIds(document: OpenAPIObject): void {
  const seen = new Map<string, string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, { operationId?: string }>)) {
      const id = operation?.operationId;
      if (!id) {
        continue;
      }
      const where = `${method.toUpperCase()} ${path}`;
      const previous = seen.get(id);
      if (previous) {
        throw new Error(`operationId "${id}" is used by both ${previous} and ${where}; rename one handler`);
      }
      seen.set(id, where);
    }
  }
}

export function serializeOpenApi(document: OpenAPIObject): string {
  return `${JSON.stringify(sortKeysDeep(document), null, 2)}\n`;
}
