import { Inject, Injectable } from '@nestjs/common';

import type { Principal } from '../auth/principal.js';
import { DomainError, NotFoundError, PayloadTooLargeError } from '../common/errors/domain-errors.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { servedUnchanged } from '../common/http/json-once.js';
import { renderContents, renderDrsObject, renderAuthorizations, type RenderContext } from './drs-render.js';
import type {
  AccessUrlDto,
  AuthorizationsDto,
  BulkAccessResponseDto,
  BulkAuthorizationsResponseDto,
  BulkObjectAccessIdDto,
  BulkObjectsResponseDto,
  DrsObjectDto,
  ServiceInfoDto,
  UnresolvedGroupDto,
} from './drs.dto.js';
import { ObjectAccessPolicy } from './object-access.policy.js';
import { HUB_ACCESS_ID, MAX_BUNDLE_DEPTH, MAX_EXPANDED_ENTRIES, type ObjectDoc } from './object.model.js';
import { assertObjectId } from './object-input.js';
import { ObjectReadsService } from './object-reads.service.js';
import { BlobUrlSigner } from './signed-urls.js';

type Outcome<T> = { ok: true; value: T } | { ok: false; status: number };

const ENVIRONMENTS = { production: 'prod', development: 'dev', test: 'test' } as const;

/** What DRS bulk answers share: counts and the failures grouped by status code. */
function summarise<T>(
  ids: readonly string[],
  outcomes: readonly Outcome<T>[],
): { summary: BulkObjectsResponseDto['summary']; unresolved: UnresolvedGroupDto[]; resolved: T[] } {
  const groups = new Map<number, Set<string>>();
  const resolved: T[] = [];
  outcomes.forEach((outcome, index) => {
    if (outcome.ok) {
      resolved.push(outcome.value);
      return;
    }
    const group = groups.get(outcome.status) ?? new Set<string>();
    group.add(ids[index] ?? '');
    groups.set(outcome.status, group);
  });
  const unresolved = [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([error_code, objectIds]) => ({ error_code, object_ids: [...objectIds] }));
  return {
    summary: { requested: ids.length, resolved: resolved.length, unresolved: ids.length - resolved.length },
    unresolved,
    resolved,
  };
}

function statusOf(error: unknown): number {
  if (error instanceof DomainError) {
    return error.status;
  }
  throw error;
}

/**
 * The GA4GH DRS view of the registry: objects rendered for the configured spec version, access checks
 * for controlled objects, bundle expansion, bulk requests and signed access URLs.
 */
@Injectable()
export class DrsService {
  private readonly view: RenderContext;
  private readonly maxBulk: number;
  private readonly rendered = new WeakMap<ObjectDoc, DrsObjectDto>();

  constructor(
    private readonly objects: ObjectReadsService,
    private readonly policy: ObjectAccessPolicy,
    private readonly signer: BlobUrlSigner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.view = {
      specVersion: config.drs.specVersion,
      hostname: config.http.publicHostname,
      tokenIssuer: config.http.publicBaseUrl,
    };
    this.maxBulk = config.drs.maxBulkRequestLength;
  }

  async serviceInfo(): Promise<ServiceInfoDto> {
    const { config } = this;
    const base: ServiceInfoDto = {
      id: config.drs.serviceId,
      name: `${config.service.name} DRS`,
      type: {
        group: 'org.ga4gh',
        artifact: 'drs',
        version: config.drs.specVersion === '1.2' ? '1.2.0' : '1.5.0',
      },
      description: 'GA4GH Data Repository Service over the objects of this Runtime Hub',
      organization: { name: config.drs.organization.name, url: config.drs.organization.url },
      ...(config.drs.contactUrl ? { contactUrl: config.drs.contactUrl } : {}),
      documentationUrl: `${config.http.publicBaseUrl}/redoc`,
      environment: ENVIRONMENTS[config.env],
      version: config.service.version,
    };
    if (config.drs.specVersion === '1.2') {
      return base;
    }
    const stats = await this.objects.statistics();
    return {
      ...base,
      maxBulkRequestLength: this.maxBulk,
      drs: { maxBulkRequestLength: this.maxBulk, ...stats },
    };
  }

  async getObject(id: string, expand: boolean, principal: Principal | undefined): Promise<DrsObjectDto> {
    const doc = await this.objects.getReadable(id, principal);
    return this.render(doc, expand);
  }

  async authorizations(id: string): Promise<AuthorizationsDto> {
    return renderAuthorizations(await this.objects.resolve(id), this.view);
  }

  async getAccessUrl(id: string, accessId: string, principal: Principal | undefined): Promise<AccessUrlDto> {
    const doc = await this.objects.getReadable(id, principal);
    return { url: await this.accessUrlOf(doc, accessId) };
  }

  async bulkObjects(
    ids: readonly string[],
    expand: boolean,
    principal: Principal | undefined,
  ): Promise<BulkObjectsResponseDto> {
    const unique = this.checkBulkLength([...new Set(ids)], ids.length);
    const docs = await this.readableMany(unique, principal);
    const outcomes = await Promise.all(
      docs.map(async (outcome): Promise<Outcome<DrsObjectDto>> => {
        if (!outcome.ok) {
          return outcome;
        }
        try {
          return { ok: true, value: await this.render(outcome.value, expand) };
        } catch (error) {
          return { ok: false, status: statusOf(error) };
        }
      }),
    );
    const { summary, unresolved, resolved } = summarise(unique, outcomes);
    return { summary, unresolved_drs_objects: unresolved, resolved_drs_object: resolved };
  }

  async bulkAuthorizations(ids: readonly string[]): Promise<BulkAuthorizationsResponseDto> {
    const unique = this.checkBulkLength([...new Set(ids)], ids.length);
    const docs = await this.loadMany(unique);
    const outcomes = docs.map((outcome): Outcome<AuthorizationsDto> =>
      outcome.ok ? { ok: true, value: renderAuthorizations(outcome.value, this.view) } : outcome,
    );
    const { summary, unresolved, resolved } = summarise(unique, outcomes);
    return { summary, unresolved_drs_objects: unresolved, resolved_drs_object: resolved };
  }

  async bulkAccessUrls(
    requests: readonly BulkObjectAccessIdDto[],
    principal: Principal | undefined,
  ): Promise<BulkAccessResponseDto> {
    const pairs = requests.flatMap((request) =>
      [...new Set(request.bulk_access_ids)].map((accessId) => ({ id: request.bulk_object_id, accessId })),
    );
    this.checkBulkLength(pairs, pairs.length);
    const objectIds = [...new Set(pairs.map((pair) => pair.id))];
    const docs = new Map(
      (await this.readableMany(objectIds, principal)).map((outcome, index) => [
        objectIds[index] ?? '',
        outcome,
      ]),
    );
    const outcomes = await Promise.all(
      pairs.map(
        async (pair): Promise<Outcome<BulkAccessResponseDto['resolved_drs_object_access_urls'][number]>> => {
          const outcome = docs.get(pair.id);
          if (!outcome?.ok) {
            return { ok: false, status: outcome?.status ?? 404 };
          }
          try {
            const url = await this.accessUrlOf(outcome.value, pair.accessId);
            return { ok: true, value: { drs_object_id: pair.id, drs_access_id: pair.accessId, url } };
          } catch (error) {
            return { ok: false, status: statusOf(error) };
          }
        },
      ),
    );
    const { summary, unresolved, resolved } = summarise(
      pairs.map((pair) => pair.id),
      outcomes,
    );
    return { summary, unresolved_drs_objects: unresolved, resolved_drs_object_access_urls: resolved };
  }

  private async accessUrlOf(doc: ObjectDoc, accessId: string): Promise<string> {
    if (accessId === HUB_ACCESS_ID && doc.blob) {
      return (await this.objects.directAccessUrl(doc)) ?? this.signer.sign(doc.id).url;
    }
    const known = doc.blob ? [HUB_ACCESS_ID] : [];
    throw new NotFoundError(
      known.length > 0
        ? `Object "${doc.id}" has no access method with access_id "${accessId}"; its access ids are: ${known.join(', ')}`
        : `Object "${doc.id}" has no access ids: fetch it from the access_url of one of its access methods`,
    );
  }

  private checkBulkLength<T>(items: T[], requested: number): T[] {
    if (requested > this.maxBulk) {
      throw new PayloadTooLargeError(
        `A bulk request may name at most ${this.maxBulk} objects (maxBulkRequestLength in /service-info); this one names ${requested}. Split it.`,
      );
    }
    return items;
  }

  /** Loads `ids` in one round trip for what is not cached; each outcome is the object or a status. */
  private async loadMany(ids: readonly string[]): Promise<Outcome<ObjectDoc>[]> {
    const valid = ids.filter((id) => {
      try {
        assertObjectId(id);
        return true;
      } catch {
        return false;
      }
    });
    const docs = await this.objects.loadMany(valid);
    return ids.map((id): Outcome<ObjectDoc> => {
      const doc = docs.get(id);
      if (doc) {
        return { ok: true, value: doc };
      }
      return { ok: false, status: valid.includes(id) ? 404 : 400 };
    });
  }

  private async readableMany(
    ids: readonly string[],
    principal: Principal | undefined,
  ): Promise<Outcome<ObjectDoc>[]> {
    return Promise.all(
      (await this.loadMany(ids)).map(async (outcome): Promise<Outcome<ObjectDoc>> => {
        if (!outcome.ok) {
          return outcome;
        }
        try {
          await this.policy.assertReadable(principal, outcome.value);
          return outcome;
        } catch (error) {
          return { ok: false, status: statusOf(error) };
        }
      }),
    );
  }

  private async render(doc: ObjectDoc, expand: boolean): Promise<DrsObjectDto> {
    if (!expand || !doc.is_bundle) {
      return this.renderedOf(doc);
    }
    const members = await this.loadDescendants(doc);
    return renderDrsObject(doc, this.view, renderContents(doc, this.view.hostname, members));
  }

  /**
   * An object as DRS renders it without expansion, rendered once per resolved document: the object cache
   * answers the same document until it changes, and a change replaces the document (and so this entry).
   */
  private renderedOf(doc: ObjectDoc): DrsObjectDto {
    let rendered = this.rendered.get(doc);
    if (!rendered) {
      rendered = servedUnchanged(renderDrsObject(doc, this.view));
      this.rendered.set(doc, rendered);
    }
    return rendered;
  }

  /**
   * Every object below a bundle, a level per round trip. Bounded like the expansion itself, so a cycle
   * or an absurdly deep tree stops loading and is then refused by {@link renderContents}.
   */
  private async loadDescendants(root: ObjectDoc): Promise<Map<string, ObjectDoc>> {
    // The root is included so that a member listing it again is seen as the cycle it is.
    const found = new Map<string, ObjectDoc>([[root.id, root]]);
    let frontier = root.child_ids;
    for (let level = 0; level <= MAX_BUNDLE_DEPTH && frontier.length > 0; level++) {
      const docs = await this.objects.loadMany(frontier.filter((id) => !found.has(id)));
      const next: string[] = [];
      for (const doc of docs.values()) {
        found.set(doc.id, doc);
        if (doc.is_bundle) {
          next.push(...doc.child_ids);
        }
      }
      if (found.size > MAX_EXPANDED_ENTRIES) {
        break;
      }
      frontier = [...new Set(next)].filter((id) => !found.has(id));
    }
    return found;
  }
}
