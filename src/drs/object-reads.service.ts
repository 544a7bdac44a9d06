import type { Readable } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';

import type { Principal } from '../auth/principal.js';
import { NotFoundError } from '../common/errors/domain-errors.js';
import { parseFilter } from '../common/pagination/filter-policy.js';
import type { ListRequestDto, Page } from '../common/pagination/list-request.dto.js';
import { Paginator } from '../common/pagination/paginator.js';
import { refusingBadRegex } from '../common/pagination/regex-check.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { BLOB_STORE, type BlobStore, type ByteRange } from '../infra/blob/blob-store.js';
import { renderDrsObject, type RenderContext } from './drs-render.js';
import { ObjectAccessPolicy } from './object-access.policy.js';
import { ObjectCache } from './object-cache.js';
import { assertObjectId } from './object-input.js';
import { ObjectTypesRepository, type ObjectTypeDoc } from './object-types.repository.js';
import type { ObjectDoc } from './object.model.js';
import type { ObjectRecordDto, ObjectTypeDto } from './objects.dto.js';
import { ObjectsRepository } from './objects.repository.js';

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

export function toObjectTypeDto(doc: ObjectTypeDoc): ObjectTypeDto {
  return {
    id: doc.id,
    ...(doc.name !== undefined ? { name: doc.name } : {}),
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    created_at: doc.created_at.toISOString(),
  };
}

/**
 * Reading the object registry: objects by id (through the cache), pages of them, their types, their
 * stored bytes, and the registry's counts. Other features read objects in process through it.
 */
@Injectable()
export class ObjectReadsService {
  private readonly registryView: RenderContext;
  private readonly presignedAccessUrls: boolean;
  private readonly accessUrlTtlSeconds: number;
  private stats: { value: { objectCount: number; totalObjectSize: number }; expiresAt: number } | undefined;

  constructor(
    private readonly objects: ObjectsRepository,
    private readonly objectTypes: ObjectTypesRepository,
    private readonly cache: ObjectCache,
    private readonly policy: ObjectAccessPolicy,
    private readonly paginator: Paginator,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // The registry shows everything the hub knows, whatever DRS version the /ga4gh routes speak.
    this.registryView = {
      specVersion: '1.5',
      hostname: config.http.publicHostname,
      tokenIssuer: config.http.publicBaseUrl,
    };
    this.presignedAccessUrls = config.blobs.store === 's3' && config.blobs.s3.presignedAccessUrls;
    this.accessUrlTtlSeconds = config.drs.signedUrlTtlSeconds;
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

  /** After an object is added or removed: the next {@link statistics} counts again. */
  forgetStatistics(): void {
    this.stats = undefined;
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
}

/** The page key of {@link ObjectReadsService.listBundlesNewestFirst}: creation time, then id. */
function newestFirstKey(doc: ObjectDoc): string {
  return `${doc.created_time}|${doc.id}`;
}
