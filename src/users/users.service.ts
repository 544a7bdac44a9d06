import { Injectable } from '@nestjs/common';

import type { UserDoc } from '../auth/accounts.js';
import { AuthCache, cacheKeys } from '../auth/auth-cache.js';
import { AuthService, type CachedUser } from '../auth/auth.service.js';
import { CryptoRepository } from '../auth/crypto.repository.js';
import type { Principal } from '../auth/principal.js';
import { describePrincipal } from '../auth/principal.js';
import { ConflictError, NotFoundError } from '../common/errors/domain-errors.js';
import type { ListRequestDto, Page } from '../common/pagination/list-request.dto.js';
import { servedUnchanged } from '../common/http/json-once.js';
import { Paginator } from '../common/pagination/paginator.js';
import type { SiteClientIdentityDto, UserCreateDto, UserDto, UserUpdateDto } from './users.dto.js';
import { UsersRepository, type UserChanges } from './users.repository.js';

const USER_FIELDS = [
  'username',
  'email',
  'full_name',
  'is_admin',
  'site_admin',
  'disabled',
  'created_at',
  'updated_at',
];

export function toUserDto(user: Omit<UserDoc, 'password_hash'>): UserDto {
  return {
    username: user.username,
    ...(user.email ? { email: user.email } : {}),
    ...(user.full_name ? { full_name: user.full_name } : {}),
    is_admin: user.is_admin,
    site_admin: user.site_admin,
    disabled: user.disabled,
    created_at: user.created_at.toISOString(),
    updated_at: user.updated_at.toISOString(),
  };
}

@Injectable()
export class UsersService {
  /**
   * GET /users/me's answer for each user object the auth cache holds: that object is replaced, never
   * changed, when the user changes, so its answer can be kept as long as it lives (which saves two date
   * conversions and a copy on every call).
   */
  private readonly cachedDtos = new WeakMap<CachedUser, UserDto>();

  constructor(
    private readonly users: UsersRepository,
    private readonly crypto: CryptoRepository,
    private readonly cache: AuthCache,
    private readonly paginator: Paginator,
    private readonly auth: AuthService,
  ) {}

  async create(input: UserCreateDto): Promise<UserDto> {
    const now = new Date();
    const user: UserDoc = {
      username: input.username,
      password_hash: await this.crypto.hashSecret(input.password),
      ...(input.email ? { email: input.email } : {}),
      ...(input.full_name ? { full_name: input.full_name } : {}),
      is_admin: input.is_admin ?? false,
      site_admin: [...new Set(input.site_admin ?? [])],
      disabled: input.disabled ?? false,
      created_at: now,
      updated_at: now,
    };
    if (!(await this.users.insert(user))) {
      throw new ConflictError(`A user named "${input.username}" already exists`, {
        extra: {
          username: input.username,
        },
      });
    }
    return toUserDto(user);
  }

  /** Creates the user only if no user of that name exists; true when it was created. */
  async ensure(input: UserCreateDto): Promise<boolean> {
    if (await this.users.findByUsername(input.username)) {
      return false;
    }
    try {
      await this.create(input);
      return true;
    } catch (error) {
      if (error instanceof ConflictError) {
        return false;
      }
      throw error;
    }
  }

  async update(username: string, input: UserUpdateDto): Promise<UserDto> {
    const { password, site_admin, ...rest } = input;
    const changes: UserChanges = { ...rest };
    if (password !== undefined) {
      changes.password_hash = await this.crypto.hashSecret(password);
    }
    if (site_admin !== undefined) {
      changes.site_admin = [...new Set(site_admin)];
    }
    const updated = await this.users.update(username, changes);
    if (!updated) {
      throw new NotFoundError(`No user named "${username}"`);
    }
    await this.cache.invalidate(cacheKeys.user(username));
    return toUserDto(updated);
  }

  /** Makes `username` an admin of site `siteId` (its creator), in every process at once. */
  async addSiteAdmin(username: string, siteId: string): Promise<void> {
    await this.users.addSiteAdmin(username, siteId);
    await this.cache.invalidate(cacheKeys.user(username));
  }

  async me(principal: Principal): Promise<UserDto | SiteClientIdentityDto> {
    if (principal.kind === 'site') {
      return { client_id: principal.clientId, site_id: principal.siteId };
    }
    const user = await this.auth.cachedUser(principal.username);
    if (!user) {
      throw new NotFoundError(`No user named "${principal.username}" (${describePrincipal(principal)})`);
    }
    let dto = this.cachedDtos.get(user);
    if (!dto) {
      dto = servedUnchanged(toUserDto(user));
      this.cachedDtos.set(user, dto);
    }
    return dto;
  }

  list(request: ListRequestDto): Promise<Page<Partial<UserDto>>> {
    return this.paginator.paginate(request, {
      scope: 'users',
      filterPolicy: { fields: ['username', 'email', 'full_name', 'is_admin', 'site_admin', 'disabled'] },
      fields: USER_FIELDS,
      keyField: 'username',
      keyOf: (user: UserDoc) => user.username,
      fetch: (query) => this.users.findPage(query),
      map: toUserDto,
    });
  }
}
