import { Inject, Injectable } from '@nestjs/common';

import type { SitePrincipal } from '../auth/principal.js';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
} from '../common/errors/domain-errors.js';
import { bladeChecksOut, mintSchemaId, requireSchemaId } from '../common/ids/schema-ids.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MINTABLE_CLASSES, type MintableClasses } from './mintable-classes.js';
import type { IdentifierDto, MintRequestDto } from './pids.dto.js';
import { PidsRepository, type PidDoc } from './pids.repository.js';

const MINT_ATTEMPTS = 5;

function toIdentifier(doc: PidDoc): IdentifierDto {
  return {
    id: doc.id,
    schema_class: doc.schema_class,
    typecode: doc.typecode,
    shoulder: doc.shoulder,
    status: doc.status,
    minted_by: doc.minted_by,
    minted_at: doc.minted_at.toISOString(),
    ...(doc.bindings ? { bindings: doc.bindings } : {}),
  };
}

/** The NMDC-style minter: ids `<prefix>:<typecode>-<shoulder>-<6 base32><2 check digits>`, stored as drafts. */
@Injectable()
export class PidsService {
  private readonly shoulder: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly pids: PidsRepository,
    @Inject(MINTABLE_CLASSES) private readonly schema: MintableClasses,
  ) {
    this.shoulder = config.metadata.pidShoulder;
  }

  /** Draft ids that now name a stored document become registered. */
  markRegistered(ids: readonly string[]): Promise<void> {
    return this.pids.markRegistered(ids);
  }

  async mint(input: MintRequestDto, site: SitePrincipal): Promise<string[]> {
    const spec = this.schema.classNamed(input.schema_class.id);
    const mintable = this.schema
      .classes()
      .filter((c) => c.typecodes.length > 0)
      .map((c) => c.uri);
    if (!spec) {
      throw new BadRequestError(
        `schema_class ${input.schema_class.id} is not a class of the metadata schema; mintable classes: ${mintable.join(', ')}`,
        { errors: [{ path: 'schema_class.id', message: 'unknown class' }], code: 'unknown_schema_class' },
      );
    }
    const typecode = spec.typecodes[0];
    const prefix = spec.idPrefix ?? this.schema.idPrefix;
    if (!typecode || !prefix) {
      throw new BadRequestError(
        `${spec.uri} has no typecode in the schema's id patterns, so no id can be minted for it; mintable classes: ${mintable.join(', ')}`,
        {
          errors: [{ path: 'schema_class.id', message: 'class has no typecode' }],
          code: 'unknown_schema_class',
        },
      );
    }
    const now = new Date();
    const minted: string[] = [];
    let wanted = input.how_many ?? 1;
    for (let attempt = 0; attempt < MINT_ATTEMPTS && wanted > 0; attempt++) {
      const fresh = new Set<string>();
      while (fresh.size < wanted) {
        fresh.add(mintSchemaId(prefix, typecode, this.shoulder));
      }
      const taken = await this.pids.insertMany(
        [...fresh].map((id) => ({
          id,
          typecode,
          schema_class: spec.uri,
          shoulder: this.shoulder,
          status: 'draft' as const,
          minted_by: site.siteId,
          minted_at: now,
        })),
      );
      for (const id of fresh) {
        if (!taken.has(id)) {
          minted.push(id);
        }
      }
      wanted = taken.size;
    }
    if (wanted > 0) {
      throw new Error(`Could not mint ${wanted} unique id(s) after ${MINT_ATTEMPTS} attempts`);
    }
    return minted;
  }

  async resolve(id: string): Promise<IdentifierDto> {
    return toIdentifier(await this.require(id));
  }

  async bind(id: string, record: Record<string, unknown>, site: SitePrincipal): Promise<IdentifierDto> {
    const doc = await this.requireOwnDraft(id, site);
    if (record.id !== undefined && record.id !== doc.id) {
      throw new BadRequestError(
        `metadata_record.id is ${JSON.stringify(record.id)}, but the record is being bound to ${doc.id}`,
        { errors: [{ path: 'metadata_record.id', message: `must be ${doc.id} or absent` }] },
      );
    }
    const bound = await this.pids.bindDraft(id, record);
    if (!bound) {
      throw new ConflictError(`${id} stopped being a draft while it was being bound`, { extra: { id } });
    }
    return toIdentifier(bound);
  }

  async delete(id: string, site: SitePrincipal): Promise<void> {
    await this.requireOwnDraft(id, site);
    if (!(await this.pids.deleteDraft(id))) {
      throw new ConflictError(`${id} stopped being a draft while it was being deleted`, { extra: { id } });
    }
  }

  private async require(id: string): Promise<PidDoc> {
    const parsed = requireSchemaId(id);
    if (parsed.shoulder === this.shoulder && !bladeChecksOut(parsed.blade)) {
      throw new BadRequestError(
        `${id} fails its check digits (the last two digits of the blade); it was probably mistyped`,
        { errors: [{ path: 'id', message: 'check digits do not match' }], code: 'invalid_id' },
      );
    }
    const doc = await this.pids.findById(id);
    if (!doc) {
      throw new NotFoundError(`No id ${id} was minted here`);
    }
    return doc;
  }

  private async requireOwnDraft(id: string, site: SitePrincipal): Promise<PidDoc> {
    const doc = await this.require(id);
    if (doc.minted_by !== site.siteId) {
      throw new ForbiddenError(`${id} was minted by site "${doc.minted_by}"; only that site may change it`);
    }
    if (doc.status !== 'draft') {
      throw new ConflictError(`${id} is ${doc.status}; only draft ids can be bound or deleted`, {
        extra: {
          id,
          status: doc.status,
        },
      });
    }
    return doc;
  }
}
