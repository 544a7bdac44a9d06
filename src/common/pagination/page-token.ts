import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { BadRequestError } from '../errors/domain-errors.js';

interface TokenBody {
  /** The resource the token pages through. */
  s: string;
  /** The sort key of the last item returned. */
  a: string;
  /** Fingerprint of the filter and projection the token was issued for. */
  f: string;
  /** The traversal this token continues, for repositories that keep a cursor open between pages. */
  c?: string;
  /** The number of matches counted when the traversal began. */
  n?: number;
}

/** What a token carries besides the position: optional, and only present when the issuer set them. */
export interface PageTokenExtras {
  readonly session?: string;
  readonly total?: number;
}

export interface DecodedPageToken extends PageTokenExtras {
  readonly after: string;
}

/**
 * Stateless, signed page tokens for keyset pagination: nothing is stored, any process can redeem them,
 * and a token only works with the query it was issued for.
 */
export class PageTokenCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('runtime-hub:page-token').digest();
  }

  static fingerprint(parts: readonly unknown[]): string {
    return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
  }

  encode(scope: string, after: string, fingerprint: string, extras: PageTokenExtras = {}): string {
    const tokenBody: TokenBody = { s: scope, a: after, f: fingerprint };
    if (extras.session !== undefined) {
      tokenBody.c = extras.session;
    }
    if (extras.total !== undefined) {
      tokenBody.n = extras.total;
    }
    const body = Buffer.from(JSON.stringify(tokenBody)).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  decode(token: string, scope: string, fingerprint: string): string {
    return this.decodeWithExtras(token, scope, fingerprint).after;
  }

  decodeWithExtras(token: string, scope: string, fingerprint: string): DecodedPageToken {
    const [body, signature] = token.split('.');
    if (!body || !signature || !this.verify(body, signature)) {
      throw new BadRequestError('page_token is not a token this hub issued', {
        errors: [{ path: 'page_token', message: 'invalid token' }],
        code: 'invalid_page_token',
      });
    }
    let parsed: TokenBody;
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenBody;
    } catch {
      throw new BadRequestError('page_token is malformed', {
        errors: [{ path: 'page_token', message: 'invalid token' }],
        code: 'invalid_page_token',
      });
    }
    if (parsed.s !== scope || parsed.f !== fingerprint) {
      throw new BadRequestError(
        'page_token belongs to another list or query; repeat the filter and projection of the request that returned it',
        {
          errors: [{ path: 'page_token', message: 'token does not match this query' }],
          code: 'invalid_page_token',
        },
      );
    }
    return {
      after: parsed.a,
      ...(typeof parsed.c === 'string' ? { session: parsed.c } : {}),
      ...(typeof parsed.n === 'number' ? { total: parsed.n } : {}),
    };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url').slice(0, 22);
  }

  private verify(body: string, signature: string): boolean {
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
