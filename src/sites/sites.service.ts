import { Injectable } from '@nestjs/common';

import { AuthCache, cacheKeys } from '../auth/auth-cache.js';
import { AuthService } from '../auth/auth.service.js';
import { CryptoRepository } from '../auth/crypto.repository.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors/domain-errors.js';
import { mintId } from '../common/ids/ids.js';
import type { ListRequestDto, Page } from '../common/pagination/list-request.dto.js';
import { Paginator } from '../common/pagination/paginator.js';
import { UsersRepository } from '../users/users.repository.js';
import type { SiteCreateDto, SiteCredentialsDto, SiteDto, SiteUpdateDto } from './sites.dto.js';
import { SitesRepository, type SiteDoc } from './sites.repository.js';

const SITE_FIELDS = ['id', 'capability_ids', 'description', 'created_at', 'updated_at'];

/** What the hub's own site can run: applying JSON submissions and changesheets (src/site/registry.yaml). */
export const HUB_SITE_CAPABILITIES = ['metadata-ingest'] as const;

export function toSiteDto(site: SiteDoc): SiteDto {
  return {
    id: site.id,
    capability_ids: site.capability_ids,
    ...(site.description ? { description: site.description } : {}),
    created_at: site.created_at.toISOString(),
    updated_at: site.updated_at.toISOString(),
  };
}

@Injectable()
export class SitesService {
  constructor(
    private readonly sites: SitesRepository,
    private readonly users: UsersRepository,
    private readonly auth: AuthService,
    private readonly crypto: CryptoRepository,
    private readonly cache: AuthCache,
    private readonly paginator: Paginator,
  ) {}

  async create(input: SiteCreateDto, principal: Principal): Promise<SiteDto> {
    if (principal.kind !== 'user') {
      throw new ForbiddenError('Sites are created by users; a site client cannot create another site');
    }
    const now = new Date();
    const site: SiteDoc = {
      id: input.id,
      capability_ids: [...new Set(input.capability_ids ?? [])],
      ...(input.description ? { description: input.description } : {}),
      created_by: describePrincipal(principal),
      created_at: now,
      updated_at: now,
    };
    if (!(await this.sites.insert(site))) {
      throw new ConflictError(`A site with id "${input.id}" already exists`, { site_id: input.id });
    }
    await this.users.addSiteAdmin(principal.username, site.id);
    await this.cache.invalidate(cacheKeys.user(principal.username));
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

  list(request: ListRequestDto): Promise<Page<Partial<SiteDto>>> {
    return this.paginator.paginate(request, {
      scope: 'sites',
      filterPolicy: { fields: ['id', 'capability_ids', 'description', 'created_at', 'updated_at'] },
      fields: SITE_FIELDS,
      keyField: 'id',
      keyOf: (site: SiteDoc) => site.id,
      fetch: (query) => this.sites.findPage(query),
      map: toSiteDto,
    });
  }

  async update(id: string, input: SiteUpdateDto, principal: Principal): Promise<SiteDto> {
    await this.requireManager(id, principal);
    const updated = await this.sites.update(id, {
      ...(input.capability_ids ? { capability_ids: [...new Set(input.capability_ids)] } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
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

  private async requireManager(id: string, principal: Principal): Promise<void> {
    await this.require(id);
    if (!(await this.auth.canManageSite(principal, id))) {
      throw new ForbiddenError(
        principal.kind === 'site'
          ? `This client acts for site "${principal.siteId}", not "${id}"`
          : `You are not an admin of site "${id}"`,
      );
    }
  }
}
