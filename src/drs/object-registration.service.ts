import type { Readable } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';

import { describePrincipal, type Principal } from '../auth/principal.js';
import {
  BadRequestError,
  ConflictError,
  DomainError,
  PayloadTooLargeError,
  type FieldProblem,
} from '../common/errors/domain-errors.js';
import { createValidationPipe } from '../common/http/validation.pipe.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { BLOB_STORE, BlobTooLargeError, type BlobStore, type StoredBlob } from '../infra/blob/blob-store.js';
import { bundleChecksums, checksumKey, type Checksum } from './checksums.js';
import {
  assertComputedValuesMatch,
  checkContents,
  invalidObject,
  normaliseChecksums,
  portableName,
  toStoredAccessMethods,
  withoutNulls,
  type ContentsInput,
} from './object-input.js';
import { ObjectRecords } from './object-records.js';
import { MAX_BUNDLE_DEPTH, MIME_TYPE_PATTERN, type ObjectDoc } from './object.model.js';
import { UploadFieldsDto, type ObjectCreateDto } from './objects.dto.js';
import { ObjectsRepository } from './objects.repository.js';

/** Who registers an object: recorded as `created_by`, and the site that will manage it. */
export interface Registrant {
  readonly createdBy: string;
  readonly mgrSite: string;
}

/** The descriptive fields of a new object (both blobs and bundles). */
export interface ObjectDescription {
  readonly name?: string;
  readonly description?: string;
  readonly mime_type?: string;
  readonly aliases?: readonly string[];
  readonly types?: readonly string[];
  readonly controlled?: boolean;
  readonly readers?: readonly string[];
}

export interface BundleRegistration extends ObjectDescription {
  readonly contents: ContentsInput;
  /** If given, must equal the computed values. */
  readonly size?: number;
  readonly checksums?: readonly Checksum[];
  readonly created_time?: string;
}

/**
 * What to do when the bytes are already registered: refuse with 409 naming the existing object (the
 * HTTP behaviour), or return that object (for in-process producers that may store the same file twice).
 */
export type OnDuplicate = 'conflict' | 'reuse';

/** One part of an upload form, independent of the HTTP framework that parsed it. */
export type UploadPart =
  | { readonly kind: 'field'; readonly name: string; readonly value: string }
  | {
      readonly kind: 'file';
      readonly name: string;
      readonly filename: string;
      readonly mimeType: string;
      readonly stream: Readable;
    };

/** How busboy and Node describe a body that stopped half-way: the client's doing, not ours. */
const MALFORMED_UPLOAD =
  /Unexpected end of (form|multipart data)|Part terminated early|Malformed|premature close|aborted/i;

/**
 * Registering objects: blobs by URL, blobs whose bytes are streamed into the blob store (uploads, and
 * files other features store in process), and bundles of registered objects.
 */
@Injectable()
export class ObjectRegistrationService {
  private readonly allowLoopbackHttp: boolean;
  private readonly hubSiteId: string;
  private readonly uploadLimitBytes: number;
  private readonly uploadValidation = createValidationPipe();

  constructor(
    private readonly objects: ObjectsRepository,
    private readonly records: ObjectRecords,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.allowLoopbackHttp = config.env !== 'production';
    this.hubSiteId = config.auth.hubSiteId;
    this.uploadLimitBytes = config.drs.uploadLimitBytes;
  }

  registrantFor(principal: Principal): Registrant {
    return {
      createdBy: describePrincipal(principal),
      mgrSite: principal.kind === 'site' ? principal.siteId : this.hubSiteId,
    };
  }

  /** For objects the hub produces itself (exports, stored changesheets): managed by the hub's own site. */
  systemRegistrant(createdBy = 'system'): Registrant {
    return { createdBy, mgrSite: this.hubSiteId };
  }

  /** `POST /objects`: a bundle when `contents` is given, otherwise a blob whose bytes live elsewhere. */
  async register(sent: ObjectCreateDto, registrant: Registrant): Promise<ObjectDoc> {
    // A new object has nothing to clear, so null means absent (NMDC's clients send null for unset fields).
    const input = withoutNulls(sent);
    if (input.contents) {
      return this.registerBundle(
        {
          ...input,
          contents: input.contents,
          ...(input.checksums ? { checksums: normaliseChecksums(input.checksums) } : {}),
        },
        registrant,
      );
    }
    const problems: FieldProblem[] = [];
    if (input.size === undefined) {
      problems.push({ path: 'size', message: 'size is required for a blob (an object without contents)' });
    }
    if (!input.checksums) {
      problems.push({ path: 'checksums', message: 'checksums are required for a blob' });
    }
    if (!input.access_methods?.length) {
      problems.push({
        path: 'access_methods',
        message: 'a blob needs at least one access method; to store the bytes here use POST /objects:upload',
      });
    }
    if (problems.length > 0) {
      throw invalidObject(problems);
    }
    const checksums = normaliseChecksums(input.checksums ?? []);
    const accessMethods = toStoredAccessMethods(input.access_methods ?? [], this.allowLoopbackHttp);
    await this.records.assertKnownTypes(input.types ?? []);
    return this.records.insertNew(
      (id, now) => ({
        ...this.baseDoc(id, input, registrant, now, input.created_time),
        size: input.size ?? 0,
        checksums,
        access_methods: accessMethods,
        child_ids: [],
        depth: 0,
        is_bundle: false,
      }),
      checksums.map(checksumKey),
    );
  }

  /**
   * Streams bytes into the blob store (computing size, sha-256 and md5 on the way) and registers them as
   * a blob with an `https` access method served by the hub.
   */
  async registerBlobFromStream(
    source: Readable,
    description: ObjectDescription,
    registrant: Registrant,
    onDuplicate: OnDuplicate = 'conflict',
  ): Promise<ObjectDoc> {
    await this.records.assertKnownTypes(description.types ?? []);
    const stored = await this.storeBytes(source);
    return this.registerStoredBytes(stored, description, registrant, onDuplicate);
  }

  /**
   * `POST /objects:upload`: text fields may come before or after the `file` part. Fields seen before
   * the bytes are checked before a single byte is stored; bytes stored for a refused upload are removed.
   */
  async registerUpload(parts: AsyncIterable<UploadPart>, registrant: Registrant): Promise<ObjectDoc> {
    const fields: Record<string, string> = {};
    let stored: StoredBlob | undefined;
    let file: { filename: string; mimeType: string } | undefined;
    try {
      for await (const part of parts) {
        if (part.kind === 'field') {
          fields[part.name] = part.value;
          continue;
        }
        if (part.name !== 'file' || stored) {
          part.stream.resume();
          throw invalidObject(
            [{ path: part.name, message: 'send exactly one file, in the part named "file"' }],
            `Unexpected file part "${part.name}": send exactly one file, in the part named "file"`,
          );
        }
        await this.checkUploadFields(fields);
        stored = await this.storeBytes(part.stream);
        file = { filename: part.filename, mimeType: part.mimeType };
      }
      if (!stored || !file) {
        throw invalidObject([
          { path: 'file', message: 'the form has no part named "file" holding the bytes' },
        ]);
      }
      const description = await this.checkUploadFields(fields);
      const mimeType =
        description.mime_type ?? (MIME_TYPE_PATTERN.test(file.mimeType) ? file.mimeType : undefined);
      const name = description.name ?? portableName(file.filename);
      return await this.registerStoredBytes(
        stored,
        { ...description, ...(name ? { name } : {}), ...(mimeType ? { mime_type: mimeType } : {}) },
        registrant,
      );
    } catch (error) {
      if (stored) {
        await this.discardBytes(stored);
      }
      throw this.uploadError(error);
    }
  }

  private async checkUploadFields(fields: Record<string, string>): Promise<UploadFieldsDto> {
    const checked: unknown = await this.uploadValidation.transform(
      { ...fields },
      { type: 'body', metatype: UploadFieldsDto },
    );
    return checked as UploadFieldsDto;
  }

  /** The first half of an upload: the bytes, stored and hashed, not yet an object. */
  async storeBytes(source: Readable): Promise<StoredBlob> {
    try {
      return await this.blobs.put(source, { maxBytes: this.uploadLimitBytes });
    } catch (error) {
      throw this.uploadError(error);
    }
  }

  /** Says what went wrong with the bytes a client sent, in the hub's terms; other errors pass as they are. */
  private uploadError(error: unknown): unknown {
    if (
      error instanceof BlobTooLargeError ||
      (error as { code?: string } | undefined)?.code === 'FST_REQ_FILE_TOO_LARGE'
    ) {
      return new PayloadTooLargeError(
        `The file is larger than the upload limit of ${this.uploadLimitBytes} bytes (UPLOAD_LIMIT_BYTES)`,
      );
    }
    if (error instanceof Error && !(error instanceof DomainError) && MALFORMED_UPLOAD.test(error.message)) {
      return new BadRequestError(
        `The upload ended before its bytes did (${error.message}); send a complete multipart/form-data body`,
        { code: 'incomplete_upload' },
      );
    }
    return error;
  }

  /** The second half of an upload; on any refusal, bytes this upload added are removed again. */
  async registerStoredBytes(
    stored: StoredBlob,
    description: ObjectDescription,
    registrant: Registrant,
    onDuplicate: OnDuplicate = 'conflict',
    fixedId?: string,
  ): Promise<ObjectDoc> {
    const checksums: Checksum[] = [
      { type: 'sha-256', checksum: stored.sha256 },
      { type: 'md5', checksum: stored.md5 },
    ];
    try {
      await this.records.assertKnownTypes(description.types ?? []);
      const doc = await this.records.insertNew(
        (id, now) => ({
          ...this.baseDoc(id, description, registrant, now),
          size: stored.size,
          checksums,
          access_methods: [],
          child_ids: [],
          depth: 0,
          is_bundle: false,
          blob: { key: stored.key },
        }),
        checksums.map(checksumKey),
        fixedId,
      );
      if (!(await this.blobs.stat(stored.key))) {
        // A concurrent DELETE of an object with the same bytes removed them after we stored them.
        await this.records.remove(doc);
        throw new ConflictError('The uploaded bytes were deleted while being registered; upload them again');
      }
      return doc;
    } catch (error) {
      if (
        onDuplicate === 'reuse' &&
        error instanceof ConflictError &&
        typeof error.extra?.existing_id === 'string'
      ) {
        const existing = await this.objects.findById(error.extra.existing_id);
        if (existing?.blob?.key === stored.key) {
          return existing;
        }
      }
      await this.discardBytes(stored);
      throw error;
    }
  }

  /** Removes bytes an upload stored, unless they were there before or an object uses them. */
  async discardBytes(stored: StoredBlob): Promise<void> {
    if (stored.created && !(await this.objects.existsWithBlobKey(stored.key))) {
      await this.blobs.delete(stored.key);
    }
  }

  async registerBundle(input: BundleRegistration, registrant: Registrant): Promise<ObjectDoc> {
    const entries = checkContents(input.contents);
    await this.records.assertKnownTypes(input.types ?? []);
    const memberIds = [...new Set(entries.map((entry) => entry.id))];
    const members = await this.objects.findByIds(memberIds);
    const byId = new Map(members.map((doc) => [doc.id, doc]));
    const missing = memberIds.filter((id) => !byId.has(id));
    if (missing.length > 0) {
      throw invalidObject(
        missing.map((id) => ({
          path: 'contents',
          message: `no object with id "${id}" is registered here`,
          id,
        })),
        `Bundle members must be registered first; unknown: ${missing.join(', ')}`,
      );
    }
    const depth = 1 + Math.max(...members.map((doc) => doc.depth));
    if (depth > MAX_BUNDLE_DEPTH) {
      throw invalidObject([
        {
          path: 'contents',
          message: `bundles may nest at most ${MAX_BUNDLE_DEPTH} levels; this one would nest ${depth}`,
        },
      ]);
    }
    const memberOf = (id: string): ObjectDoc => byId.get(id) as ObjectDoc;
    const size = entries.reduce((sum, entry) => sum + memberOf(entry.id).size, 0);
    const checksums = bundleChecksums(entries.map((entry) => memberOf(entry.id).checksums));
    assertComputedValuesMatch(input, size, checksums);
    if (checksums.length === 0) {
      throw invalidObject([
        {
          path: 'contents',
          message: 'the members share no checksum algorithm the hub can compute (such as sha-256 or md5)',
        },
      ]);
    }
    const doc = await this.records.insertNew(
      (id, now) => ({
        ...this.baseDoc(id, input, registrant, now, input.created_time),
        size,
        checksums,
        access_methods: [],
        contents: entries,
        child_ids: memberIds,
        depth,
        is_bundle: true,
      }),
      [],
    );
    // Compare-and-set against DELETE: it checks for containing bundles before it deletes, so either it
    // saw this bundle, or this re-check sees the member gone.
    const still = await this.objects.findByIds(memberIds);
    if (still.length !== memberIds.length) {
      await this.records.remove(doc);
      throw new ConflictError('A member of the bundle was deleted while it was being registered; try again');
    }
    return doc;
  }

  private baseDoc(
    id: string,
    input: ObjectDescription,
    registrant: Registrant,
    now: string,
    createdTime?: string,
  ): Omit<ObjectDoc, 'size' | 'checksums' | 'access_methods' | 'child_ids' | 'depth' | 'is_bundle'> {
    return {
      id,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.mime_type !== undefined ? { mime_type: input.mime_type } : {}),
      created_time: createdTime ? new Date(createdTime).toISOString() : now,
      updated_time: now,
      version: 1,
      aliases: [...new Set(input.aliases ?? [])],
      types: [...new Set(input.types ?? [])],
      controlled: input.controlled ?? false,
      readers: [...new Set(input.readers ?? [])],
      mgr_site: registrant.mgrSite,
      created_by: registrant.createdBy,
    };
  }
}
