import { PageTokenCodec } from '../../common/pagination/page-token.js';

/**
 * Keyset positions of orchestrator lists (run and tick ids) as the hub's signed page tokens, bound to
 * the list and the filter they were issued for.
 */
export class PositionTokens {
  private readonly codec: PageTokenCodec;

  constructor(secret: string) {
    this.codec = new PageTokenCodec(secret);
  }

  encode(scope: string, filter: unknown, position: number): string {
    return this.codec.encode(scope, String(position), PageTokenCodec.fingerprint([filter]));
  }

  decode(scope: string, filter: unknown, token: string | undefined): number | undefined {
    if (token === undefined || token === '') {
      return undefined;
    }
    return Number(this.codec.decode(token, scope, PageTokenCodec.fingerprint([filter])));
  }
}
