import { Readable } from 'node:stream';

import { Injectable } from '@nestjs/common';

import { BadRequestError, ForbiddenError } from '../common/errors/domain-errors.js';
import type { ByteRange } from '../infra/blob/blob-store.js';
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
  ) {}

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
        return this.objects.describeBlob(objectId);
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

  read(blob: StoredBlobInfo, range?: ByteRange): Readable {
    return this.objects.readBlob(blob, range);
  }
}
