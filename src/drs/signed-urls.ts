import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'expired' | 'invalid';

/**
 * HMAC-SHA256 signatures for blob download URLs: `/blobs/{id}?exp=<unix seconds>&sig=<hex>`. The URL is
 * the capability, so anyone holding it may download until it expires, and any hub process can check it
 * without shared state. The key is derived from URL_SIGNING_KEY so these signatures can never be
 * replayed as page tokens (which derive their own key from the same secret).
 */
export class BlobUrlSigner {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly publicBaseUrl: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = createHmac('sha256', secret).update('runtime-hub:blob-url').digest();
  }

  /** A download URL for `objectId` valid for the configured lifetime from `now`. */
  sign(objectId: string, now = Date.now()): { url: string; expiresAt: number } {
    const exp = Math.floor(now / 1000) + this.ttlSeconds;
    const sig = this.signature(objectId, exp);
    return {
      url: `${this.publicBaseUrl}/blobs/${encodeURIComponent(objectId)}?exp=${exp}&sig=${sig}`,
      expiresAt: exp,
    };
  }

  check(
    objectId: string,
    exp: string | undefined,
    sig: string | undefined,
    now = Date.now(),
  ): SignatureCheck {
    if (!exp || !sig || !/^\d{1,12}$/.test(exp) || !/^[0-9a-f]{64}$/.test(sig)) {
      return 'invalid';
    }
    const expected = Buffer.from(this.signature(objectId, Number(exp)), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) {
      return 'invalid';
    }
    return Number(exp) * 1000 < now ? 'expired' : 'valid';
  }

  private signature(objectId: string, exp: number): string {
    // The newline cannot occur in an object id, so no two (id, exp) pairs share a message.
    return createHmac('sha256', this.key).update(`${objectId}\n${exp}`).digest('hex');
  }
}
