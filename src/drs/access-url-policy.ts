/** Schemes a registered access URL may use: where DRS clients can actually fetch bytes from. */
export const ACCESS_URL_SCHEMES = ['https', 's3', 'gs', 'ftp', 'globus', 'drs'] as const;

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Why a registered access URL is refused, or undefined when it is fine. `file://` (and any other scheme)
 * would point clients at their own machine or at nothing; plain `http://` travels unencrypted, so it is
 * allowed only to a loopback host outside production, for local development.
 */
export function accessUrlProblem(url: string, allowLoopbackHttp: boolean): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    return 'is not an absolute URL';
  }
  if ((ACCESS_URL_SCHEMES as readonly string[]).includes(scheme)) {
    return undefined;
  }
  if (scheme === 'http') {
    let host: string | undefined;
    try {
      host = new URL(url).hostname;
    } catch {
      host = undefined;
    }
    if (allowLoopbackHttp && host !== undefined && LOOPBACK_HOST.test(host)) {
      return undefined;
    }
    return allowLoopbackHttp
      ? 'uses http://, allowed only for a loopback host (localhost, 127.0.0.1) in development; use https://'
      : 'uses http://; use https://';
  }
  return `uses the scheme ${scheme}://, which DRS clients cannot fetch from here; use one of ${ACCESS_URL_SCHEMES.map((s) => `${s}://`).join(', ')}`;
}
