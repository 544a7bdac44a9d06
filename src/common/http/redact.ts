/** Query parameters whose values grant access: a signed download URL's signature, a token. */
const SECRET_PARAMS = new Set([
  'sig',
  'signature',
  'token',
  'access_token',
  'x-amz-signature',
  'x-amz-credential',
]);

/**
 * A request URL fit for a log line: the values of secret-bearing query parameters replaced, so a log
 * reader cannot replay a signed download URL while it is still valid.
 */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) {
    return url;
  }
  const redacted = url
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals < 0 ? pair : pair.slice(0, equals);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A malformed name is logged as it came.
      }
      return equals >= 0 && SECRET_PARAMS.has(decoded.toLowerCase()) ? `${name}=REDACTED` : pair;
    })
    .join('&');
  return `${url.slice(0, query)}?${redacted}`;
}
