import { Inject, Injectable, Optional } from '@nestjs/common';

import type { Principal } from '../auth/principal.js';
import { ConflictError, NotFoundError } from '../common/errors/domain-errors.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { WORK_ARRIVED, WORK_TOPICS, type WorkArrived } from '../orchestrator/work-arrived.js';
import { ObjectAccessPolicy } from './object-access.policy.js';
import { ObjectCache } from './object-cache.js';
import { invalidObject, toStoredAccessMethods } from './object-input.js';
import { ObjectRecords } from './object-records.js';
import type { ObjectDoc } from './object.model.js';
import type { ObjectUpdateDto } from './objects.dto.js';
import { ObjectsRepository, type ObjectChanges } from './objects.repository.js';

/** Changing registered objects: their descriptive fields and access methods, their types, deletion. */
@Injectable()
export class ObjectChangesService {
  private readonly allowLoopbackHttp: boolean;

  constructor(
    private readonly objects: ObjectsRepository,
    private readonly records: ObjectRecords,
    private readonly cache: ObjectCache,
    private readonly policy: ObjectAccessPolicy,
    @Inject(APP_CONFIG) config: AppConfig,
    // Absent in command-line contexts, where the sensors' interval ticks find the work.
    @Optional() @Inject(WORK_ARRIVED) private readonly workArrived?: WorkArrived,
  ) {
    this.allowLoopbackHttp = config.env !== 'production';
  }

  async update(id: string, input: ObjectUpdateDto, principal: Principal): Promise<ObjectDoc> {
    const doc = await this.records.findFresh(id);
    await this.policy.assertManageable(principal, doc);
    const changes: ObjectChanges = {};
    const unset: string[] = [];
    // The validation pipe lets null through for optional fields: here it means "remove" or "clear".
    if (input.description === null) {
      unset.push('description');
    } else if (input.description !== undefined) {
      changes.description = input.description;
    }
    if (input.mime_type === null) {
      unset.push('mime_type');
    } else if (input.mime_type !== undefined) {
      changes.mime_type = input.mime_type;
    }
    if (input.aliases !== undefined) {
      changes.aliases = [...new Set(input.aliases ?? [])];
    }
    if (input.readers !== undefined) {
      changes.readers = [...new Set(input.readers ?? [])];
    }
    if (input.controlled !== undefined) {
      changes.controlled = input.controlled ?? false;
    }
    if (input.access_methods !== undefined) {
      const methods = toStoredAccessMethods(input.access_methods ?? [], this.allowLoopbackHttp);
      if (methods.length === 0 && !doc.is_bundle && !doc.blob) {
        throw invalidObject([
          {
            path: 'access_methods',
            message: 'a blob whose bytes are not stored here needs at least one access method',
          },
        ]);
      }
      changes.access_methods = methods;
    }
    if (Object.keys(changes).length === 0 && unset.length === 0) {
      return doc;
    }
    const updated = await this.objects.update(id, changes, unset);
    await this.cache.invalidate([id]);
    if (!updated) {
      throw new NotFoundError(`No object with id "${id}"`);
    }
    return updated;
  }

  async setTypes(id: string, typeIds: unknown, principal: Principal): Promise<ObjectDoc> {
    if (!Array.isArray(typeIds) || typeIds.some((type) => typeof type !== 'string')) {
      throw invalidObject([{ path: 'body', message: 'send a JSON array of object type ids, e.g. ["test"]' }]);
    }
    const types = [...new Set(typeIds as string[])];
    const doc = await this.records.findFresh(id);
    await this.policy.assertManageable(principal, doc);
    await this.records.assertKnownTypes(types);
    const updated = await this.objects.update(id, { types });
    await this.cache.invalidate([id]);
    this.workArrived?.notify(WORK_TOPICS.objectTyped);
    if (!updated) {
      throw new NotFoundError(`No object with id "${id}"`);
    }
    return updated;
  }

  async delete(id: string): Promise<void> {
    const doc = await this.records.findFresh(id);
    const containers = await this.objects.findContainers(id);
    if (containers.length > 0) {
      throw new ConflictError(
        `Object "${id}" is a member of bundle(s) ${containers.join(', ')}; delete those bundles first`,
        { extra: { bundle_ids: containers }, code: 'object_in_bundle' },
      );
    }
    await this.records.remove(doc);
  }
}
