import { Inject, Injectable } from '@nestjs/common';

import { ConflictError, NotFoundError, UnprocessableError } from '../common/errors/domain-errors.js';
import { SITE_CLIENTS, USER_ACCOUNTS, type SiteClients, type UserAccounts } from './accounts.js';
import { AllowancesRepository, type AllowanceDoc } from './allowances.repository.js';
import type { AllowanceDto, AllowanceFilterDto, AllowanceRecordDto } from './allowances.dto.js';
import { AuthCache, cacheKeys } from './auth-cache.js';
import { ALLOWANCE_ACTIONS, describePrincipal, type Principal } from './principal.js';

function toRecord(doc: AllowanceDoc): AllowanceRecordDto {
  return {
    username: doc.username,
    action: doc.action,
    created_by: doc.created_by,
    created_at: doc.created_at.toISOString(),
  };
}

@Injectable()
export class AllowancesService {
  constructor(
    private readonly allowances: AllowancesRepository,
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
    @Inject(SITE_CLIENTS) private readonly sites: SiteClients,
    private readonly cache: AuthCache,
  ) {}

  actions(): string[] {
    return [...ALLOWANCE_ACTIONS].sort();
  }

  async list(filter: AllowanceFilterDto): Promise<{ resources: AllowanceRecordDto[] }> {
    const docs = await this.allowances.find({
      ...(filter.username ? { username: filter.username } : {}),
      ...(filter.action ? { action: filter.action } : {}),
    });
    return { resources: docs.map(toRecord) };
  }

  async grant(input: AllowanceDto, grantedBy: Principal): Promise<AllowanceRecordDto> {
    // As in NMDC, an allowance may name a site client id: that client's tokens then hold it.
    if (
      !(await this.users.findByUsername(input.username)) &&
      !(await this.sites.findClient(input.username))
    ) {
      throw new UnprocessableError(
        `No user or site client named "${input.username}"; create the user (or the site's credentials) first`,
        { errors: [{ path: 'username', message: 'unknown user or site client' }] },
      );
    }
    const doc: AllowanceDoc = { ...input, created_by: describePrincipal(grantedBy), created_at: new Date() };
    if (!(await this.allowances.insert(doc))) {
      throw new ConflictError(`"${input.username}" already holds "${input.action}"`);
    }
    await this.cache.invalidate(cacheKeys.allowance(input.username, input.action));
    return toRecord(doc);
  }

  async revoke(input: AllowanceDto): Promise<void> {
    if (!(await this.allowances.delete(input.username, input.action))) {
      throw new NotFoundError(`"${input.username}" does not hold "${input.action}"`);
    }
    await this.cache.invalidate(cacheKeys.allowance(input.username, input.action));
  }
}
