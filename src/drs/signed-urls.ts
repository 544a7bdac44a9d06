import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'expired' | 'invalid';

/** What an upload URL allows: bytes for one new object, registered for one site. */
export interface BlobUpload {
  readonly objectId: string;
  readonly site: string;
  readonly name?: string;
  readonly mimeType?: string;
}

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

  /**
   * An upload URL: `PUT /blobs/{id}?site&name&mime_type&exp&sig` stores the bytes as the new object `id`
   * (once: the id is then taken). The site and the description are signed with it, so none can be changed.
   */
  signUpload(upload: BlobUpload, ttlSeconds: number, now = Date.now()): { url: string; expiresAt: number } {
    const exp = Math.floor(now / 1000) + ttlSeconds;
    const query = new URLSearchParams({
      site: upload.site,
      ...(upload.name !== undefined ? { name: upload.name } : {}),
      ...(upload.mimeType !== undefined ? { mime_type: upload.mimeType } : {}),
      exp: String(exp),
      sig: this.uploadSignature(upload, exp),
    });
    return {
      url: `${this.publicBaseUrl}/blobs/${encodeURIComponent(upload.objectId)}?${query.toString()}`,
      expiresAt: exp,
    };
  }

  checkUpload(
    upload: BlobUpload,
    exp: string | undefined,
    sig: string | undefined,
    now = Date.now(),
  ): SignatureCheck {
    return checkSignature(exp, sig, now, (expSeconds) => this.uploadSignature(upload, expSeconds));
  }

  check(
    objectId: string,
    exp: string | undefined,
    sig: string | undefined,
    now = Date.now(),
  ): SignatureCheck {
    return checkSignature(exp, sig, now, (expSeconds) => this.signature(objectId, expSeconds));
  }

  private uploadSignature(upload: BlobUpload, exp: number): string {
    // JSON keeps every field's boundaries, and its leading "put" never starts a download message.
    const message = JSON.stringify([
      'put',
      upload.objectId,
      upload.site,
      upload.name ?? null,
      upload.mimeType ?? null,
      exp,
    ]);
    return createHmac('sha256', this.key).update(message).digest('hex');
  }

  private signature(objectId: string, exp: number): string {
    // The newline cannot occur in an object id, so no two (id, exp) pairs share a message.
    return createHmac('sha256', this.key).update(`${objectId}\n${exp}`).digest('hex');
  }
}

/** One rule for every signed URL: well-formed, signed by us (compared in constant time), not expired. */
function checkSignature(
  exp: string | undefined,
  sig: string | undefined,
  now: number,
  sign: (expSeconds: number) => string,
): SignatureCheck {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp) || !/^[0-9a-f]{64}$/.test(sig)) {
    return 'invalid';
  }
  if (!timingSafeEqual(Buffer.from(sign(Number(exp)), 'hex'), Buffer.from(sig, 'hex'))) {
    return 'invalid';
  }
  return Number(exp) * 1000 < now ? 'expired' : 'valid';
}
