import { Readable } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';

import { BadRequestError, ForbiddenError, NotFoundError } from '../common/errors/domain-errors.js';
import { BLOB_STORE, type BlobStore, type ByteRange } from '../infra/blob/blob-store.js';
import { HUB_ACCESS_ID } from './object.model.js';
import type { ObjectDoc } from './object.model.js';
import { ObjectReadsService, type StoredBlobInfo } from './object-reads.service.js';
import { ObjectRegistrationService } from './object-registration.service.js';
import { BlobUrlSigner, type BlobUpload } from './signed-urls.js';

/** Serves blob bytes to holders of a signed URL: the signature is the only credential. */
@Injectable()
export class BlobsService {
  constructor(
    private readonly objects: ObjectReadsService,
    private readonly registration: ObjectRegistrationService,
    private readonly signer: BlobUrlSigner,
    @Inject(BLOB_STORE) private readonly store: BlobStore,
  ) {}

  /**
   * The object a signed download URL names, described from its record alone: the store is asked only
   * once, by {@link open} (or {@link assertStored}), so a download costs one request to it. A blob's
   * size is part of its content address and recorded with the object.
   */
  async openSigned(
    objectId: string,
    exp: string | undefined,
    sig: string | undefined,
  ): Promise<StoredBlobInfo> {
    const renew = `ask GET /ga4gh/drs/v1/objects/${encodeURIComponent(objectId)}/access/${HUB_ACCESS_ID} for a fresh URL`;
    switch (this.signer.check(objectId, exp, sig)) {
      case 'expired':
        throw new ForbiddenError(
          `This download URL expired at ${new Date(Number(exp) * 1000).toISOString()}; ${renew}`,
        );
      case 'invalid':
        throw new ForbiddenError(`This download URL is not one this hub signed, or it was altered; ${renew}`);
      case 'valid':
        break;
    }
    const doc = await this.objects.resolve(objectId);
    const key = doc.blob?.key;
    if (!key) {
      throw this.noBytes(objectId);
    }
    return {
      objectId: doc.id,
      key,
      size: doc.size,
      sha256: key,
      mimeType: doc.mime_type ?? 'application/octet-stream',
      ...(doc.name !== undefined ? { name: doc.name } : {}),
    };
  }

  /** The blob's bytes (or a range of them) once the store has answered; 404 when they are gone. */
  async open(blob: StoredBlobInfo, range?: ByteRange): Promise<Readable> {
    const stream = await this.store.open(blob.key, range);
    if (!stream) {
      throw this.noBytes(blob.objectId);
    }
    return stream;
  }

  /** For HEAD: that the bytes are there, without reading them. */
  async assertStored(blob: StoredBlobInfo): Promise<void> {
    if (!(await this.store.stat(blob.key))) {
      throw this.noBytes(blob.objectId);
    }
  }

  /** Stores the bytes of a signed upload URL as the object it names, registered for the signed site. */
  async storeSigned(
    upload: BlobUpload,
    exp: string | undefined,
    sig: string | undefined,
    body: unknown,
  ): Promise<ObjectDoc> {
    const renew = `ask POST /sites/${encodeURIComponent(upload.site)}:putObject for a new upload URL`;
    switch (this.signer.checkUpload(upload, exp, sig)) {
      case 'expired':
        throw new ForbiddenError(
          `This upload URL expired at ${new Date(Number(exp) * 1000).toISOString()}; ${renew}`,
        );
      case 'invalid':
        throw new ForbiddenError(`This upload URL is not one this hub signed, or it was altered; ${renew}`);
      case 'valid':
        break;
    }
    if (!(body instanceof Readable)) {
      throw new BadRequestError(
        'Send the bytes as the request body with Content-Type: application/octet-stream',
        {
          errors: [{ path: 'content-type', message: 'must be application/octet-stream' }],
          code: 'not_octet_stream',
        },
      );
    }
    const stored = await this.registration.storeBytes(body);
    return this.registration.registerStoredBytes(
      stored,
      {
        ...(upload.name !== undefined ? { name: upload.name } : {}),
        ...(upload.mimeType !== undefined ? { mime_type: upload.mimeType } : {}),
      },
      { createdBy: `site:${upload.site}`, mgrSite: upload.site },
      'conflict',
      upload.objectId,
    );
  }

  private noBytes(objectId: string): NotFoundError {
    return new NotFoundError(`Object "${objectId}" has no bytes stored on this hub`);
  }
}
