import { Inject, Injectable, Optional } from '@nestjs/common';

import { ConflictError, NotFoundError } from '../common/errors/domain-errors.js';
import { mintId } from '../common/ids/ids.js';
import { BLOB_STORE, type BlobStore } from '../infra/blob/blob-store.js';
import { WORK_ARRIVED, WORK_TOPICS, type WorkArrived } from '../orchestrator/work-arrived.js';
import { checksumKey } from './checksums.js';
import { ObjectCache } from './object-cache.js';
import { assertObjectId, invalidObject } from './object-input.js';
import { ObjectReadsService } from './object-reads.service.js';
import { ObjectTypesRepository } from './object-types.repository.js';
import type { ObjectDoc } from './object.model.js';
import { ObjectsRepository } from './objects.repository.js';

/**
 * What registering and changing objects share: inserting a record with its checksum claims, removing
 * one with its claims and unused bytes, and keeping the cache and the counts in step with both.
 */
@Injectable()
export class ObjectRecords {
  constructor(
    private readonly objects: ObjectsRepository,
    private readonly objectTypes: ObjectTypesRepository,
    private readonly cache: ObjectCache,
    private readonly reads: ObjectReadsService,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    // Absent in command-line contexts, where the sensors' interval ticks find the work.
    @Optional() @Inject(WORK_ARRIVED) private readonly workArrived?: WorkArrived,
  ) {}

  /**
   * Mints an id, claims the checksums and inserts; a checksum someone else holds is a 409. With
   * `fixedId` (an id handed out beforehand, e.g. in an upload URL) there is one attempt, and a taken id
   * is 409.
   */
  async insertNew(
    build: (id: string, now: string) => ObjectDoc,
    checksumKeys: string[],
    fixedId?: string,
  ): Promise<ObjectDoc> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const doc = build(fixedId ?? mintId('sys0'), new Date().toISOString());
      const claim = await this.objects.claimChecksums(checksumKeys, doc.id);
      if (!claim.claimed) {
        throw new ConflictError(
          `An object with the same checksum (${claim.key}) is already registered: "${claim.holder}"`,
          { extra: { existing_id: claim.holder, checksum: claim.key }, code: 'duplicate_checksum' },
        );
      }
      if (await this.objects.insert(doc)) {
        this.reads.forgetStatistics();
        this.cache.add(doc);
        if (doc.types.length > 0) this.workArrived?.notify(WORK_TOPICS.objectTyped);
        return doc;
      }
      await this.objects.releaseChecksums(checksumKeys, doc.id);
      if (fixedId !== undefined) {
        throw new ConflictError(`Object ${fixedId} already exists: an upload URL stores its bytes once`, {
          extra: { existing_id: fixedId },
          code: 'object_exists',
        });
      }
    }
    throw new Error('Could not mint a unique object id after 5 attempts');
  }

  async remove(doc: ObjectDoc): Promise<void> {
    await this.objects.delete(doc.id);
    await this.cache.invalidate([doc.id]);
    await this.objects.releaseChecksums(doc.is_bundle ? [] : doc.checksums.map(checksumKey), doc.id);
    this.reads.forgetStatistics();
    if (doc.blob && !(await this.objects.existsWithBlobKey(doc.blob.key))) {
      await this.blobs.delete(doc.blob.key);
    }
  }

  /** The stored object, read past the cache, for a change that depends on it. */
  async findFresh(id: string): Promise<ObjectDoc> {
    assertObjectId(id);
    const doc = await this.objects.findById(id);
    if (!doc) {
      throw new NotFoundError(`No object with id "${id}"`);
    }
    return doc;
  }

  async assertKnownTypes(types: readonly string[]): Promise<void> {
    if (types.length === 0) {
      return;
    }
    const known = new Set((await this.objectTypes.findByIds([...new Set(types)])).map((t) => t.id));
    const unknown = [...new Set(types)].filter((type) => !known.has(type));
    if (unknown.length > 0) {
      throw invalidObject(
        unknown.map((type) => ({ path: 'types', message: `unknown object type "${type}"` })),
        `Unknown object type id(s): ${unknown.join(', ')}; GET /object_types lists the known ones`,
      );
    }
  }
}
