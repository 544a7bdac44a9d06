import type { Readable } from 'node:stream';

import { Injectable } from '@nestjs/common';

import { ForbiddenError } from '../common/errors/domain-errors.js';
import type { ByteRange } from '../infra/blob/blob-store.js';
import { HUB_ACCESS_ID } from './object.model.js';
import { ObjectsService, type StoredBlobInfo } from './objects.service.js';
import { BlobUrlSigner } from './signed-urls.js';

/** Serves blob bytes to holders of a signed URL: the signature is the only credential. */
@Injectable()
export class BlobsService {
  constructor(
    private readonly objects: ObjectsService,
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

  read(blob: StoredBlobInfo, range?: ByteRange): Readable {
    return this.objects.readBlob(blob, range);
  }
}
