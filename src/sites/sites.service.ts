import { Inject, Injectable } from '@nestjs/common';

import { AuthCache, cacheKeys } from '../auth/auth-cache.js';
import { AuthService } from '../auth/auth.service.js';
import { CryptoRepository } from '../auth/crypto.repository.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors/domain-errors.js';
import { mintId } from '../common/ids/ids.js';
import type { ListRequestDto, Page } from '../common/pagination/list-request.dto.js';
import { Paginator } from '../common/pagination/paginator.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { UsersService } from '../users/users.service.js';
import { effectiveCapabilities, HUB_SITE_CAPABILITIES, isHubInternal } from './hub-capabilities.js';
import type {
  CapabilityDecisionDto,
  SiteCreateDto,
  SiteCredentialsDto,
  SiteDto,
  SiteUpdateDto,
} from './sites.dto.js';
import { SitesRepository, type SiteDoc } from './sites.repository.js';

const SITE_FIELDS = [
  'id',
  'capability_ids',
  'requested_capability_ids',
  'description',
  'created_at',
  'updated_at',
];

export function toSiteDto(site: SiteDoc): SiteDto {
  return {
    id: site.id,
    capability_ids: site.capability_ids,
    requested_capability_ids: site.requested_capability_ids ?? [],
    ...(site.description ? { description: site.description } : {}),
    created_at: site.created_at.toISOString(),
    updated_at: site.updated_at.toISOString(),
  };
}

@Injectable()
export class SitesService {
  constructor(
    private readonly sites: SitesRepository,
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly crypto: CryptoRepository,
    private readonly cache: AuthCache,
    private readonly paginator: Paginator,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.hubSiteId = config.auth.hubSiteId;
  }

  private readonly hubSiteId: string;

  async create(input: SiteCreateDto, principal: Principal): Promise<SiteDto> {
    if (principal.kind !== 'user') {
      throw new ForbiddenError('Sites are created by users; a site client cannot create another site');
    }
    const wanted = unique(input.capability_ids ?? []);
    this.refuseHubInternal(input.id, wanted);
    const approver = await this.isApprover(principal);
    const now = new Date();
    const site: SiteDoc = {
      id: input.id,
      capability_ids: approver ? wanted : [],
      requested_capability_ids: approver ? [] : wanted,
      ...(input.description ? { description: input.description } : {}),
      created_by: describePrincipal(principal),
      created_at: now,
      updated_at: now,
    };
    if (!(await this.sites.insert(site))) {
      throw new ConflictError(`A site with id "${input.id}" already exists`, {
        extra: { site_id: input.id },
      });
    }
    await this.users.addSiteAdmin(principal.username, site.id);
    return toSiteDto(site);
  }

  /**
   * Makes sure the hub's own site exists (its sensors claim jobs as this site) and holds the capabilities
   * of the work the hub does itself; capabilities an admin added are kept.
   */
  async ensureHubSite(siteId: string): Promise<void> {
    const now = new Date();
    await this.sites.ensure({
      id: siteId,
      capability_ids: [...HUB_SITE_CAPABILITIES],
      description: 'This hub itself: its sensors claim and run jobs as this site',
      created_by: 'system',
      created_at: now,
      updated_at: now,
    });
  }

  async get(id: string): Promise<SiteDto> {
    return toSiteDto(await this.require(id));
  }

  /** The capabilities site `id` may act on now; null when the site does not exist. */
  async effectiveCapabilitiesOf(id: string): Promise<string[] | null> {
    const site = await this.sites.findById(id);
    return site ? effectiveCapabilities(site, this.hubSiteId) : null;
  }

  list(request: ListRequestDto): Promise<Page<Partial<SiteDto>>> {
    return this.paginator.paginate(request, {
      scope: 'sites',
      filterPolicy: { fields: SITE_FIELDS },
      fields: SITE_FIELDS,
      keyField: 'id',
      keyOf: (site: SiteDoc) => site.id,
      fetch: (query) => this.sites.findPage(query),
      map: toSiteDto,
    });
  }

  /**
   * `capability_ids` is the set the site should have. From an approver it is granted as sent; from the
   * site's own admins or clients, granted capabilities they keep stay, dropped ones go at once (giving a
   * capability up needs nobody's approval), and the rest becomes the site's pending request.
   */
  async update(id: string, input: SiteUpdateDto, principal: Principal): Promise<SiteDto> {
    const site = await this.requireManager(id, principal);
    let capabilities: Pick<SiteDoc, 'capability_ids' | 'requested_capability_ids'> | undefined;
    if (input.capability_ids) {
      const wanted = unique(input.capability_ids);
      this.refuseHubInternal(id, wanted);
      capabilities = (await this.isApprover(principal))
        ? {
            capability_ids: wanted,
            requested_capability_ids: (site.requested_capability_ids ?? []).filter(
              (c) => !wanted.includes(c),
            ),
          }
        : {
            capability_ids: site.capability_ids.filter((c) => wanted.includes(c)),
            requested_capability_ids: wanted.filter((c) => !site.capability_ids.includes(c)),
          };
    }
    const updated = await this.sites.update(id, {
      ...(capabilities ?? {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
    });
    if (!updated) {
      throw new NotFoundError(`No site with id "${id}"`);
    }
    return toSiteDto(updated);
  }

  /** Grants requested (or any named) capabilities; only an admin or a sites:admin holder may. */
  approveCapabilities(id: string, input: CapabilityDecisionDto, principal: Principal): Promise<SiteDto> {
    return this.decide(id, input, principal, 'approve');
  }

  /** Drops capabilities from a site's request without granting them. */
  denyCapabilities(id: string, input: CapabilityDecisionDto, principal: Principal): Promise<SiteDto> {
    return this.decide(id, input, principal, 'deny');
  }

  private async decide(
    id: string,
    input: CapabilityDecisionDto,
    principal: Principal,
    decision: 'approve' | 'deny',
  ): Promise<SiteDto> {
    if (!(await this.isApprover(principal))) {
      throw new ForbiddenError(
        `Only an admin or a holder of the "sites:admin" allowance may ${decision} a site's capabilities`,
      );
    }
    const site = await this.require(id);
    const requested = site.requested_capability_ids ?? [];
    const chosen = unique(input.capability_ids ?? requested);
    if (decision === 'approve') {
      this.refuseHubInternal(id, chosen);
    }
    const updated = await this.sites.update(id, {
      capability_ids:
        decision === 'approve' ? unique([...site.capability_ids, ...chosen]) : site.capability_ids,
      requested_capability_ids: requested.filter((c) => !chosen.includes(c)),
    });
    if (!updated) {
      throw new NotFoundError(`No site with id "${id}"`);
    }
    return toSiteDto(updated);
  }

  async generateCredentials(id: string, principal: Principal): Promise<SiteCredentialsDto> {
    await this.requireManager(id, principal);
    const secret = this.crypto.randomSecret();
    const secretHash = await this.crypto.hashSecret(secret);
    for (let attempt = 0; attempt < 5; attempt++) {
      const clientId = mintId('sys0');
      const inserted = await this.sites.insertClient({
        id: clientId,
        site_id: id,
        secret_hash: secretHash,
        created_by: describePrincipal(principal),
        created_at: new Date(),
      });
      if (inserted) {
        return { client_id: clientId, client_secret: secret };
      }
    }
    throw new Error('Could not mint a unique client id after 5 attempts');
  }

  async revokeClient(id: string, clientId: string, principal: Principal): Promise<void> {
    await this.requireManager(id, principal);
    if (!(await this.sites.deleteClient(id, clientId))) {
      throw new NotFoundError(`Site "${id}" has no client "${clientId}"`);
    }
    await this.cache.invalidate(cacheKeys.client(clientId));
  }

  private async require(id: string): Promise<SiteDoc> {
    const site = await this.sites.findById(id);
    if (!site) {
      throw new NotFoundError(`No site with id "${id}"`);
    }
    return site;
  }

  private isApprover(principal: Principal): Promise<boolean> {
    return this.auth.holdsAllowance(principal, 'sites:admin');
  }

  private refuseHubInternal(siteId: string, capabilities: readonly string[]): void {
    if (siteId === this.hubSiteId) {
      return;
    }
    const internal = capabilities.filter(isHubInternal);
    if (internal.length > 0) {
      throw new ForbiddenError(
        `The capabilities ${internal.join(', ')} belong to the hub: only its own site "${this.hubSiteId}" may hold them`,
        {
          errors: internal.map((capability) => ({
            path: 'capability_ids',
            message: `${capability} is hub-internal and cannot be requested or granted for site "${siteId}"`,
          })),
        },
      );
    }
  }

  private async requireManager(id: string, principal: Principal): Promise<SiteDoc> {
    const site = await this.require(id);
    if (!(await this.auth.canManageSite(principal, id))) {
      throw new ForbiddenError(
        principal.kind === 'site'
          ? `This client acts for site "${principal.siteId}", not "${id}"`
          : `You are not an admin of site "${id}"`,
      );
    }
    return site;
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
