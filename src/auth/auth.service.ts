import { Inject, Injectable } from '@nestjs/common';

import { UnauthorizedError } from '../common/errors/domain-errors.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import {
  SITE_CLIENTS,
  USER_ACCOUNTS,
  type SiteClients,
  type UserAccounts,
  type UserDoc,
} from './accounts.js';
import { AllowancesRepository } from './allowances.repository.js';
import { AuthCache, cacheKeys } from './auth-cache.js';
import type { AllowanceAction, Principal } from './principal.js';
import { RevocationsRepository } from './revocations.repository.js';

export interface VerifiedClaims {
  sub?: unknown;
  jti?: unknown;
  exp?: unknown;
}

/** A user as the auth cache keeps it: everything but the password hash. */
export type CachedUser = Omit<UserDoc, 'password_hash'>;

/** Turns verified token claims into a principal, and answers the authorisation questions guards ask. */
@Injectable()
export class AuthService {
  readonly hubSiteId: string;
  /**
   * What {@link cachedPrincipal} last answered for a remembered token's claims (the same object on every
   * request with that token), so a repeat request skips the lookups, the key strings and the allocations.
   */
  private readonly decided = new WeakMap<
    VerifiedClaims,
    { principal: Principal; generation: number; until: number }
  >();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
    @Inject(SITE_CLIENTS) private readonly sites: SiteClients,
    private readonly allowances: AllowancesRepository,
    private readonly revocations: RevocationsRepository,
    private readonly cache: AuthCache,
  ) {
    this.hubSiteId = config.auth.hubSiteId;
  }

  async principalFromClaims(claims: VerifiedClaims): Promise<Principal> {
    const { sub, jti, exp } = claims;
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') {
      throw new UnauthorizedError(
        'The access token lacks the sub, jti or exp claim; request a new one from POST /token',
      );
    }
    const revoked = await this.cache.getOrLoad(cacheKeys.revoked(jti), () => this.revocations.isRevoked(jti));
    if (revoked) {
      throw new UnauthorizedError('The access token has been revoked; request a new one from POST /token');
    }
    const expiresAt = new Date(exp * 1000);
    if (sub.startsWith('user:') && sub.length > 'user:'.length) {
      const username = sub.slice('user:'.length);
      const user = await this.cachedUser(username);
      if (!user || user.disabled) {
        throw new UnauthorizedError('The account behind this access token is disabled or no longer exists');
      }
      return { kind: 'user', username, isAdmin: user.is_admin, tokenId: jti, tokenExpiresAt: expiresAt };
    }
    if (sub.startsWith('client:') && sub.length > 'client:'.length) {
      const clientId = sub.slice('client:'.length);
      const siteId = await this.cache.getOrLoad(cacheKeys.client(clientId), async () => {
        const client = await this.sites.findClient(clientId);
        return client?.site_id ?? null;
      });
      if (!siteId) {
        throw new UnauthorizedError('The site client behind this access token has been revoked');
      }
      return { kind: 'site', siteId, clientId, tokenId: jti, tokenExpiresAt: expiresAt };
    }
    throw new UnauthorizedError('The access token subject is neither a user nor a site client');
  }

  /**
   * What {@link principalFromClaims} would answer, decided from cached entries alone and without a
   * promise; undefined when that needs a load or would refuse the token (principalFromClaims then
   * loads, or refuses with its reason). The same entries, so the same staleness bound and evictions.
   */
  cachedPrincipal(claims: VerifiedClaims): Principal | undefined {
    const known = this.decided.get(claims);
    if (known && known.generation === this.cache.generation && known.until > Date.now()) {
      return known.principal;
    }
    const { sub, jti, exp } = claims;
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') {
      return undefined;
    }
    const generation = this.cache.generation;
    const revoked = this.cache.peekEntry(cacheKeys.revoked(jti));
    if (revoked?.value !== false) {
      return undefined;
    }
    let principal: Principal;
    let holder: { readonly expiresAt: number } | undefined;
    if (sub.startsWith('user:') && sub.length > 'user:'.length) {
      const username = sub.slice('user:'.length);
      const entry = this.cache.peekEntry(cacheKeys.user(username));
      const user = entry?.value as CachedUser | null | undefined;
      if (!user || user.disabled) {
        return undefined;
      }
      holder = entry;
      principal = {
        kind: 'user',
        username,
        isAdmin: user.is_admin,
        tokenId: jti,
        tokenExpiresAt: new Date(exp * 1000),
      };
    } else if (sub.startsWith('client:') && sub.length > 'client:'.length) {
      const clientId = sub.slice('client:'.length);
      const entry = this.cache.peekEntry(cacheKeys.client(clientId));
      const siteId = entry?.value;
      if (typeof siteId !== 'string' || siteId === '') {
        return undefined;
      }
      holder = entry;
      principal = { kind: 'site', siteId, clientId, tokenId: jti, tokenExpiresAt: new Date(exp * 1000) };
    } else {
      return undefined;
    }
    // Decided from these entries alone, so the answer holds until one of them expires or is evicted.
    Object.freeze(principal);
    const until = Math.min(revoked.expiresAt, holder?.expiresAt ?? 0, exp * 1000);
    this.decided.set(claims, { principal, generation, until });
    return principal;
  }

  async holdsAllowance(principal: Principal, action: AllowanceAction): Promise<boolean> {
    if (principal.kind === 'user' && principal.isAdmin) {
      return true;
    }
    // A site client holds the allowances granted to its client id (NMDC grants to client ids too).
    const holder = principal.kind === 'user' ? principal.username : principal.clientId;
    return this.cache.getOrLoad(cacheKeys.allowance(holder, action), () =>
      this.allowances.exists(holder, action),
    );
  }

  /**
   * Whether whoever registered an object (its `created_by`) may have it acted on as `action`: a user
   * holding the allowance (admins hold all), never a site client (sites hold no allowances), and the
   * hub's own registrants (`system`, `cli`, …), which only trusted code paths use.
   */
  async registrantHolds(createdBy: string, action: AllowanceAction): Promise<boolean> {
    if (createdBy.startsWith('site:')) {
      return false;
    }
    if (!createdBy.startsWith('user:')) {
      return true;
    }
    const username = createdBy.slice('user:'.length);
    const user = await this.cachedUser(username);
    if (!user || user.disabled) {
      return false;
    }
    return (
      user.is_admin ||
      this.cache.getOrLoad(cacheKeys.allowance(username, action), () =>
        this.allowances.exists(username, action),
      )
    );
  }

  /** Admins, the site's admin users and the site's own clients may manage a site. */
  async canManageSite(principal: Principal, siteId: string): Promise<boolean> {
    if (principal.kind === 'site') {
      return principal.siteId === siteId;
    }
    if (principal.isAdmin) {
      return true;
    }
    const user = await this.users.findByUsername(principal.username);
    return user?.site_admin.includes(siteId) ?? false;
  }

  /**
   * The user behind a token, from the per-process cache every request consults anyway, so routes such as
   * GET /users/me cost no database round trip. Evicted in every process when the user changes.
   */
  cachedUser(username: string): Promise<CachedUser | null> {
    return this.cache.getOrLoad(cacheKeys.user(username), async () => {
      const user = await this.users.findByUsername(username);
      if (!user) {
        return null;
      }
      const { password_hash: _hash, ...rest } = user;
      return rest;
    });
  }
}
