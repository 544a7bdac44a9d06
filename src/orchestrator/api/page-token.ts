import { BadRequestError } from '../../common/errors/domain-errors.js';

/** Opaque keyset page tokens: the position after which the next page starts. */
export function encodePageToken(position: number): string {
  return Buffer.from(JSON.stringify({ p: position })).toString('base64url');
}

export function decodePageToken(token: string | undefined): number | undefined {
  if (token === undefined || token === '') {
    return undefined;
  }
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p?: unknown };
    if (typeof parsed.p === 'number' && Number.isSafeInteger(parsed.p) && parsed.p > 0) {
      return parsed.p;
    }
  } catch {
    // fall through to the error below
  }
  throw new BadRequestError(
    'page_token is not a token this API issued; pass next_page_token back unchanged',
    [{ path: 'page_token', message: 'unrecognised page token' }],
  );
}
