import type { Readable } from 'node:stream';

import { Inject, Injectable, Optional } from '@nestjs/common';

import { describePrincipal, type Principal } from '../auth/principal.js';
import {
  BadRequestError,
  ConflictError,
  DomainError,
  NotFoundError,
  PayloadTooLargeError,
  type FieldProblem,
} from '../common/errors/domain-errors.js';
import { invalidInput } from '../common/errors/problems.js';
import { createValidationPipe } from '../common/http/validation.pipe.js';
import { mintId } from '../common/ids/ids.js';
import { parseFilter } from '../common/pagination/filter-policy.js';
import type { ListRequestDto, Page } from '../common/pagination/list-request.dto.js';
import { Paginator } from '../common/pagination/paginator.js';
import { refusingBadRegex } from '../common/pagination/regex-check.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { WORK_ARRIVED, WORK_TOPICS, type WorkArrived } from '../orchestrator/work-arrived.js';
import {
  BLOB_STORE,
  BlobTooLargeError,
  type BlobStore,
  type ByteRange,
  type StoredBlob,
} from '../infra/blob/blob-store.js';
import { bundleChecksums, checksumKey, normaliseChecksum, type Checksum } from './checksums.js';
import { renderDrsObject, type RenderContext } from './drs-render.js';
import { accessUrlProblem } from './access-url-policy.js';
import { ObjectAccessPolicy } from './object-access.policy.js';
import { ObjectCache } from './object-cache.js';
import { ObjectTypesRepository, type ObjectTypeDoc } from './object-types.repository.js';
import {
  DRS_ID_PATTERN,
  MAX_BUNDLE_DEPTH,
  MIME_TYPE_PATTERN,
  PORTABLE_NAME_PATTERN,
  type ObjectDoc,
  type StoredAccessMethod,
  type StoredContentsEntry,
} from './object.model.js';
import {
  UploadFieldsDto,
  type AccessMethodInputDto,
  type ChecksumInputDto,
  type ObjectCreateDto,
  type ObjectRecordDto,
  type ObjectTypeDto,
  type ObjectUpdateDto,
} from './objects.dto.js';
import { ObjectsRepository, type ObjectChanges } from './objects.repository.js';

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
  readonly contents: readonly { name: string; id: string; drs_uri?: readonly string[] }[];
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

export interface StoredBlobInfo {
  readonly objectId: string;
  readonly key: string;
  readonly size: number;
  readonly sha256: string;
  readonly mimeType: string;
  readonly name?: string;
}

const LIST_FIELDS = [
  'id',
  'name',
  'self_uri',
  'size',
  'created_time',
  'updated_time',
  'version',
  'mime_type',
  'checksums',
  'access_methods',
  'contents',
  'description',
  'aliases',
  'types',
  'controlled',
  'readers',
  'mgr_site',
  'created_by',
];

const FILTER_FIELDS = [
  'id',
  'name',
  'size',
  'created_time',
  'updated_time',
  'mime_type',
  'checksums',
  'description',
  'aliases',
  'types',
  'controlled',
  'mgr_site',
  'created_by',
  'is_bundle',
];

const STATS_TTL_MS = 5000;

/** How busboy and Node describe a body that stopped half-way: the client's doing, not ours. */
const MALFORMED_UPLOAD =
  /Unexpected end of (form|multipart data)|Part terminated early|Malformed|premature close|aborted/i;

/** A file name reduced to the DRS portable characters, or undefined when nothing usable is left. */
export function portableName(filename: string): string | undefined {
  const base = filename.split(/[\\/]/).pop() ?? '';
  const portable = base
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 256);
  return portable && PORTABLE_NAME_PATTERN.test(portable) ? portable : undefined;
}

export function toObjectTypeDto(doc: ObjectTypeDoc): ObjectTypeDto {
  return {
    id: doc.id,
    ...(doc.name !== undefined ? { name: doc.name } : {}),
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    created_at: doc.created_at.toISOString(),
  };
}

/**
 * The object registry: registering blobs (by URL or by streaming bytes into the blob store) and bundles,
 * reading, changing and deleting them. Other features use it in process: {@link registerBlobFromStream},
 * {@link registerBundle}, {@link resolve} and {@link describeBlob}/{@link readBlob}.
 */
@Injectable()
export class ObjectsService {
  private readonly allowLoopbackHttp: boolean;
  private readonly registryView: RenderContext;
  private readonly hubSiteId: string;
  private readonly uploadLimitBytes: number;
  private readonly presignedAccessUrls: boolean;
  private readonly accessUrlTtlSeconds: number;
  private readonly uploadValidation = createValidationPipe();
  private stats: { value: { objectCount: number; totalObjectSize: number }; expiresAt: number } | undefined;

  constructor(
    private readonly objects: ObjectsRepository,
    private readonly objectTypes: ObjectTypesRepository,
    private readonly cache: ObjectCache,
    private readonly policy: ObjectAccessPolicy,
    private readonly paginator: Paginator,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) config: AppConfig,
    // Absent in command-line contexts, where the sensors' interval ticks find the work.
    @Optional() @Inject(WORK_ARRIVED) private readonly workArrived?: WorkArrived,
  ) {
    this.allowLoopbackHttp = config.env !== 'production';
    // The registry shows everything the hub knows, whatever DRS version the /ga4gh routes speak.
    this.registryView = {
      specVersion: '1.5',
      hostname: config.http.publicHostname,
      tokenIssuer: config.http.publicBaseUrl,
    };
    this.hubSiteId = config.auth.hubSiteId;
    this.uploadLimitBytes = config.drs.uploadLimitBytes;
    this.presignedAccessUrls = config.blobs.store === 's3' && config.blobs.s3.presignedAccessUrls;
    this.accessUrlTtlSeconds = config.drs.signedUrlTtlSeconds;
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

  toRecord(doc: ObjectDoc): ObjectRecordDto {
    return {
      ...renderDrsObject(doc, this.registryView),
      types: [...doc.types],
      controlled: doc.controlled,
      ...(doc.readers.length > 0 ? { readers: [...doc.readers] } : {}),
      mgr_site: doc.mgr_site,
      created_by: doc.created_by,
    };
  }

  // ---- reading -------------------------------------------------------------------------------------

  /** The object, from the cache when possible; undefined when there is none. Ids are not checked. */
  load(id: string): Promise<ObjectDoc | undefined> {
    // By key rather than through findByIds: FerretDB answers a lookup by `_id` without a scan.
    return this.cache.get(id, async () => {
      const doc = await this.objects.findById(id);
      return doc ? [doc] : [];
    });
  }

  loadMany(ids: readonly string[]): Promise<Map<string, ObjectDoc>> {
    return this.cache.getMany(ids, (missing) => this.objects.findByIds(missing));
  }

  /** In-process resolution, without access checks: 400 for a malformed id, 404 for an unknown one. */
  async resolve(id: string): Promise<ObjectDoc> {
    assertObjectId(id);
    const doc = await this.load(id);
    if (!doc) {
      throw new NotFoundError(`No object with id "${id}"`);
    }
    return doc;
  }

  async getReadable(id: string, principal: Principal | undefined): Promise<ObjectDoc> {
    const doc = await this.resolve(id);
    await this.policy.assertReadable(principal, doc);
    return doc;
  }

  async list(
    request: ListRequestDto,
    principal: Principal | undefined,
  ): Promise<Page<Partial<ObjectRecordDto>>> {
    const readable = await this.policy.readableFilter(principal);
    return this.paginator.paginate(request, {
      scope: 'objects',
      filterPolicy: { fields: FILTER_FIELDS },
      fields: LIST_FIELDS,
      keyField: 'id',
      keyOf: (doc: ObjectDoc) => doc.id,
      fetch: (query) => this.objects.findPage(query),
      map: (doc) => this.toRecord(doc),
      ...(readable ? { baseFilter: readable } : {}),
    });
  }

  /**
   * Bundles labelled `type` (exports, for instance), newest first, as a ListRequest page. Objects the
   * principal may not read are left out, as in {@link list}.
   */
  async listBundlesNewestFirst(
    type: string,
    request: ListRequestDto,
    principal: Principal | undefined,
  ): Promise<Page<Partial<ObjectRecordDto>>> {
    const readable = await this.policy.readableFilter(principal);
    return this.paginator.paginate(request, {
      scope: `bundles:${type}`,
      filterPolicy: { fields: FILTER_FIELDS },
      fields: LIST_FIELDS,
      keyField: 'id',
      keyOf: newestFirstKey,
      fetch: (query) => this.objects.findBundlesNewestFirst(type, query),
      map: (doc) => this.toRecord(doc),
      ...(readable ? { baseFilter: readable } : {}),
    });
  }

  /** The newest bundle labelled `type` that the principal may read, if any. */
  async latestBundle(type: string, principal: Principal | undefined): Promise<ObjectDoc | undefined> {
    const readable = await this.policy.readableFilter(principal);
    const [doc] = await this.objects.findBundlesNewestFirst(type, { filter: readable ?? {}, limit: 1 });
    return doc;
  }

  async listTypes(filter?: string): Promise<ObjectTypeDto[]> {
    const query = parseFilter(filter, { fields: ['id', 'name', 'description', 'created_at'] });
    return (await refusingBadRegex(() => this.objectTypes.list(query))).map(toObjectTypeDto);
  }

  async getTypes(id: string, principal: Principal | undefined): Promise<ObjectTypeDto[]> {
    const doc = await this.getReadable(id, principal);
    return (await this.objectTypes.findByIds(doc.types)).map(toObjectTypeDto);
  }

  /** Counts for service-info; recomputed at most every few seconds, since it scans the registry. */
  async statistics(): Promise<{ objectCount: number; totalObjectSize: number }> {
    const now = Date.now();
    if (this.stats && this.stats.expiresAt > now) {
      return this.stats.value;
    }
    const [objectCount, totalObjectSize] = await Promise.all([
      this.objects.countObjects(),
      this.objects.totalBlobSize(),
    ]);
    this.stats = { value: { objectCount, totalObjectSize }, expiresAt: now + STATS_TTL_MS };
    return this.stats.value;
  }

  /** Where an object's bytes are; 404 when the hub holds no bytes for it. */
  async describeBlob(id: string): Promise<StoredBlobInfo> {
    const blob = await this.blobOf(await this.resolve(id));
    if (!blob) {
      throw new NotFoundError(`Object "${id}" has no bytes stored on this hub`);
    }
    return blob;
  }

  /** The stored bytes of an object already loaded; undefined when the hub holds none for it. */
  async blobOf(doc: ObjectDoc): Promise<StoredBlobInfo | undefined> {
    const key = doc.blob?.key;
    const stat = key ? await this.blobs.stat(key) : undefined;
    if (!key || !stat) {
      return undefined;
    }
    return {
      objectId: doc.id,
      key,
      size: stat.size,
      sha256: key,
      mimeType: doc.mime_type ?? 'application/octet-stream',
      ...(doc.name !== undefined ? { name: doc.name } : {}),
    };
  }

  /**
   * A presigned URL of the object store itself for the object's bytes, valid as long as the hub's own
   * signed URLs, when S3_PRESIGNED_ACCESS_URLS asks for them; undefined to use the hub's signed URL.
   */
  async directAccessUrl(doc: ObjectDoc): Promise<string | undefined> {
    if (!this.presignedAccessUrls || !doc.blob) {
      return undefined;
    }
    return this.blobs.directUrl(doc.blob.key, {
      expiresInSeconds: this.accessUrlTtlSeconds,
      ...(doc.name !== undefined ? { filename: doc.name } : {}),
      contentType: doc.mime_type ?? 'application/octet-stream',
    });
  }

  readBlob(blob: StoredBlobInfo, range?: ByteRange): Readable {
    return this.blobs.read(blob.key, range);
  }

  // ---- registering ---------------------------------------------------------------------------------

  /** `POST /objects`: a bundle when `contents` is given, otherwise a blob whose bytes live elsewhere. */
  async register(sent: ObjectCreateDto, registrant: Registrant): Promise<ObjectDoc> {
    // A new object has nothing to clear, so null means absent (NMDC's clients send null for unset fields).
    const input = withoutNulls(sent);
    if (input.contents) {
      return this.registerBundle(
        {
          ...input,
          contents: input.contents,
          ...(input.checksums ? { checksums: this.normaliseChecksums(input.checksums) } : {}),
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
    const checksums = this.normaliseChecksums(input.checksums ?? []);
    const accessMethods = toStoredAccessMethods(input.access_methods ?? [], this.allowLoopbackHttp);
    await this.assertKnownTypes(input.types ?? []);
    return this.insertNew(
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
    await this.assertKnownTypes(description.types ?? []);
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

  /** Says what went wrong with the bytes a client sent, in the hub's terms. */
  private uploadError(error: unknown): unknown {
    if (
      error instanceof BlobTooLargeError ||
      (error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE'
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
      if (
        error instanceof BlobTooLargeError ||
        (error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE'
      ) {
        throw new PayloadTooLargeError(
          `The file is larger than the upload limit of ${this.uploadLimitBytes} bytes (UPLOAD_LIMIT_BYTES)`,
        );
      }
      if (error instanceof Error && MALFORMED_UPLOAD.test(error.message)) {
        throw new BadRequestError(
          `The upload ended before its bytes did (${error.message}); send a complete multipart/form-data body`,
          { code: 'incomplete_upload' },
        );
      }
      throw error;
    }
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
      await this.assertKnownTypes(description.types ?? []);
      const doc = await this.insertNew(
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
        await this.removeRecord(doc);
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
    const entries = this.checkContents(input.contents);
    await this.assertKnownTypes(input.types ?? []);
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
    this.assertComputedValuesMatch(input, size, checksums);
    if (checksums.length === 0) {
      throw invalidObject([
        {
          path: 'contents',
          message: 'the members share no checksum algorithm the hub can compute (such as sha-256 or md5)',
        },
      ]);
    }
    const doc = await this.insertNew(
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
      await this.removeRecord(doc);
      throw new ConflictError('A member of the bundle was deleted while it was being registered; try again');
    }
    return doc;
  }

  // ---- changing ------------------------------------------------------------------------------------

  async update(id: string, input: ObjectUpdateDto, principal: Principal): Promise<ObjectDoc> {
    const doc = await this.requireFresh(id);
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
    const doc = await this.requireFresh(id);
    await this.policy.assertManageable(principal, doc);
    await this.assertKnownTypes(types);
    const updated = await this.objects.update(id, { types });
    await this.cache.invalidate([id]);
    this.workArrived?.notify(WORK_TOPICS.objectTyped);
    if (!updated) {
      throw new NotFoundError(`No object with id "${id}"`);
    }
    return updated;
  }

  async delete(id: string): Promise<void> {
    const doc = await this.requireFresh(id);
    const containers = await this.objects.findContainers(id);
    if (containers.length > 0) {
      throw new ConflictError(
        `Object "${id}" is a member of bundle(s) ${containers.join(', ')}; delete those bundles first`,
        { extra: { bundle_ids: containers }, code: 'object_in_bundle' },
      );
    }
    await this.removeRecord(doc);
  }

  // ---- internals -----------------------------------------------------------------------------------

  private async removeRecord(doc: ObjectDoc): Promise<void> {
    await this.objects.delete(doc.id);
    await this.cache.invalidate([doc.id]);
    await this.objects.releaseChecksums(doc.is_bundle ? [] : doc.checksums.map(checksumKey), doc.id);
    this.stats = undefined;
    if (doc.blob && !(await this.objects.existsWithBlobKey(doc.blob.key))) {
      await this.blobs.delete(doc.blob.key);
    }
  }

  private async requireFresh(id: string): Promise<ObjectDoc> {
    assertObjectId(id);
    const doc = await this.objects.findById(id);
    if (!doc) {
      throw new NotFoundError(`No object with id "${id}"`);
    }
    return doc;
  }

  /** Mints an id, claims the checksums and inserts; a checksum someone else holds is a 409. */
  /** With `fixedId` (an id handed out beforehand, e.g. in an upload URL) there is one attempt, and a taken id is 409. */
  private async insertNew(
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
        this.stats = undefined;
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

  private normaliseChecksums(input: readonly ChecksumInputDto[]): Checksum[] {
    const problems: FieldProblem[] = [];
    const result: Checksum[] = [];
    input.forEach((raw, index) => {
      const normalised = normaliseChecksum(raw);
      if (!normalised.ok) {
        problems.push({ path: `checksums[${index}]`, message: normalised.message });
      } else if (result.some((c) => c.type === normalised.value.type)) {
        problems.push({ path: `checksums[${index}]`, message: `a second ${normalised.value.type} checksum` });
      } else {
        result.push(normalised.value);
      }
    });
    if (problems.length > 0) {
      throw invalidObject(problems);
    }
    return result;
  }

  private checkContents(contents: BundleRegistration['contents']): StoredContentsEntry[] {
    const problems: FieldProblem[] = [];
    const names = new Set<string>();
    if (contents.length === 0) {
      problems.push({ path: 'contents', message: 'a bundle must have at least one member' });
    }
    contents.forEach((entry, index) => {
      if (!PORTABLE_NAME_PATTERN.test(entry.name)) {
        problems.push({ path: `contents[${index}].name`, message: 'name must be a portable file name' });
      }
      if (names.has(entry.name)) {
        problems.push({
          path: `contents[${index}].name`,
          message: `"${entry.name}" is listed twice; names must be unique in a bundle`,
        });
      }
      names.add(entry.name);
      if (!DRS_ID_PATTERN.test(entry.id)) {
        problems.push({
          path: `contents[${index}].id`,
          message: 'id must be an object id of letters, digits and ._~-',
        });
      }
    });
    if (problems.length > 0) {
      throw invalidObject(problems);
    }
    return contents.map((entry) => ({
      name: entry.name,
      id: entry.id,
      ...(entry.drs_uri?.length ? { drs_uri: [...new Set(entry.drs_uri)] } : {}),
    }));
  }

  private assertComputedValuesMatch(
    input: BundleRegistration,
    size: number,
    checksums: readonly Checksum[],
  ): void {
    const problems: FieldProblem[] = [];
    if (input.size !== undefined && input.size !== size) {
      problems.push({
        path: 'size',
        message: `a bundle's size is the sum of its members: ${size}, not ${input.size}`,
      });
    }
    (input.checksums ?? []).forEach((given, index) => {
      const computed = checksums.find((c) => c.type === given.type);
      if (!computed) {
        problems.push({
          path: `checksums[${index}]`,
          message: `the hub cannot compute a ${given.type} checksum for this bundle; omit it`,
        });
      } else if (computed.checksum !== given.checksum) {
        problems.push({
          path: `checksums[${index}]`,
          message: `the bundle's ${given.type} checksum is ${computed.checksum} (over its members' checksums), not ${given.checksum}`,
        });
      }
    });
    if (problems.length > 0) {
      throw invalidObject(problems);
    }
  }

  private async assertKnownTypes(types: readonly string[]): Promise<void> {
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

/** The page key of {@link ObjectsService.listBundlesNewestFirst}: creation time, then id. */
function newestFirstKey(doc: ObjectDoc): string {
  return `${doc.created_time}|${doc.id}`;
}

export function assertObjectId(id: string): void {
  if (!DRS_ID_PATTERN.test(id)) {
    throw new BadRequestError(
      `"${id}" is not an object id: ids are 1-256 letters, digits, ".", "_", "~" or "-"`,
      { errors: [{ path: 'object_id', message: 'invalid object id' }], code: 'invalid_object_id' },
    );
  }
}

/** The object without its null-valued fields, and its access methods without theirs. */
function withoutNulls(input: ObjectCreateDto): ObjectCreateDto {
  const kept = Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== null),
  ) as ObjectCreateDto;
  if (kept.access_methods) {
    kept.access_methods = kept.access_methods.map(
      (method) =>
        Object.fromEntries(
          Object.entries(method).filter(([, value]) => value !== null),
        ) as AccessMethodInputDto,
    );
  }
  return kept;
}

function invalidObject(problems: FieldProblem[], message?: string): BadRequestError {
  return invalidInput('The object is not valid', problems, { code: 'invalid_object', message });
}

function toStoredAccessMethods(
  methods: readonly AccessMethodInputDto[],
  allowLoopbackHttp: boolean,
): StoredAccessMethod[] {
  const problems: FieldProblem[] = [];
  methods.forEach((method, index) => {
    const urlProblem = method.access_url
      ? accessUrlProblem(method.access_url.url, allowLoopbackHttp)
      : undefined;
    if (urlProblem) {
      problems.push({ path: `access_methods[${index}].access_url.url`, message: `the URL ${urlProblem}` });
    }
    if (method.access_id !== undefined && method.access_id !== null) {
      problems.push({
        path: `access_methods[${index}].access_id`,
        message:
          'only the hub mints access ids, for bytes it stores; give an access_url or upload the bytes with POST /objects:upload',
      });
    }
    if (!method.access_url) {
      problems.push({ path: `access_methods[${index}].access_url`, message: 'access_url is required' });
    }
  });
  if (problems.length > 0) {
    throw invalidObject(problems);
  }
  return methods.map((method) => ({
    type: method.type,
    access_url: {
      url: method.access_url?.url ?? '',
      ...(method.access_url?.headers?.length ? { headers: [...method.access_url.headers] } : {}),
    },
    ...(method.region !== undefined && method.region !== null ? { region: method.region } : {}),
    ...(method.cloud !== undefined && method.cloud !== null ? { cloud: method.cloud } : {}),
    ...(method.available !== undefined && method.available !== null ? { available: method.available } : {}),
  }));
}
