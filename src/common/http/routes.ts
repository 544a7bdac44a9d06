/**
 * Path of a custom method in the Google API style (`/sites/{id}:generateCredentials`). Fastify's router
 * needs the parameter constrained to stop at the colon and the literal colon doubled; the OpenAPI
 * document is normalised back to the plain form by `normaliseOpenApiPath`.
 */
export function customMethodPath(param: string, method: string): string {
  return `:${param}(^[^:/]+)::${method}`;
}

export function normaliseOpenApiPath(path: string): string {
  return path
    .replace(/\{(\w+)\}\([^)]*\)/g, '{$1}')
    .replace(/::/g, ':')
    .replace(/\\:/g, ':');
}
