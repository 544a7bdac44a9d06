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
    const token = tokenOf(claims);
    if (!token) {
      throw new UnauthorizedError(
        'The access token lacks the sub, jti or exp claim; request a new one from POST /token',
      );
    }
    const { jti, subject } = token;
    const revoked = await this.cache.getOrLoad(cacheKeys.revoked(jti), () => this.revocations.isRevoked(jti));
    if (revoked) {
      throw new UnauthorizedError('The access token has been revoked; request a new one from POST /token');
    }
    if (!subject) {
      throw new UnauthorizedError('The access token subject is neither a user nor a site client');
    }
    const holder =
      subject.kind === 'user'
        ? await this.cachedUser(subject.id)
        : await this.cache.getOrLoad(cacheKeys.client(subject.id), async () => {
            const client = await this.sites.findClient(subject.id);
            return client?.site_id ?? null;
          });
    const principal = principalOf(token, holder);
    if (!principal) {
      throw new UnauthorizedError(
        subject.kind === 'user'
          ? 'The account behind this access token is disabled or no longer exists'
          : 'The site client behind this access token has been revoked',
      );
    }
    return principal;
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
    const token = tokenOf(claims);
    if (!token?.subject) {
      return undefined;
    }
    const generation = this.cache.generation;
    const revoked = this.cache.peekEntry(cacheKeys.revoked(token.jti));
    if (revoked?.value !== false) {
      return undefined;
    }
    const { subject } = token;
    const entry = this.cache.peekEntry(
      subject.kind === 'user' ? cacheKeys.user(subject.id) : cacheKeys.client(subject.id),
    );
    const principal = entry && principalOf(token, entry.value);
    if (!principal) {
      return undefined;
    }
    // Decided from these entries alone, so the answer holds until one of them expires or is evicted.
    Object.freeze(principal);
    const until = Math.min(revoked.expiresAt, entry.expiresAt, token.exp * 1000);
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

interface TokenFacts {
  jti: string;
  exp: number;
  /** Who the token speaks for; undefined when its subject names neither a user nor a site client. */
  subject?: { kind: 'user' | 'site'; id: string };
}

/** The claims every access token must carry, or undefined when one is missing or mistyped. */
function tokenOf({ sub, jti, exp }: VerifiedClaims): TokenFacts | undefined {
  if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') {
    return undefined;
  }
  for (const [prefix, kind] of [
    ['user:', 'user'],
    ['client:', 'site'],
  ] as const) {
    if (sub.startsWith(prefix) && sub.length > prefix.length) {
      return { jti, exp, subject: { kind, id: sub.slice(prefix.length) } };
    }
  }
  return { jti, exp };
}

/**
 * The principal a token's subject stands for, given what the cache holds for it (the user without its
 * password hash, or the client's site id); undefined when that refuses the token.
 */
function principalOf({ jti, exp, subject }: TokenFacts, holder: unknown): Principal | undefined {
  const tokenExpiresAt = new Date(exp * 1000);
  if (subject?.kind === 'user') {
    const user = holder as CachedUser | null | undefined;
    return user && !user.disabled
      ? { kind: 'user', username: subject.id, isAdmin: user.is_admin, tokenId: jti, tokenExpiresAt }
      : undefined;
  }
  if (subject?.kind === 'site' && typeof holder === 'string' && holder !== '') {
    return { kind: 'site', siteId: holder, clientId: subject.id, tokenId: jti, tokenExpiresAt };
  }
  return undefined;
}
