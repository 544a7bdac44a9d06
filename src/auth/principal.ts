/** Who is making a request, as established from a verified bearer token. */
export type Principal = UserPrincipal | SitePrincipal;

export interface UserPrincipal {
  readonly kind: 'user';
  readonly username: string;
  readonly isAdmin: boolean;
  /** The token's `jti`, used for revocation. */
  readonly tokenId: string;
  readonly tokenExpiresAt: Date;
}

export interface SitePrincipal {
  readonly kind: 'site';
  /** The site this client acts for. */
  readonly siteId: string;
  readonly clientId: string;
  readonly tokenId: string;
  readonly tokenExpiresAt: Date;
}

/** The actions a user can be allowed; admins hold every one. */
export const ALLOWANCE_ACTIONS = [
  'changesheets:submit',
  'json:submit',
  'queries:write',
  'objects:admin',
  'runs:launch',
  'exports:run',
  'sites:admin',
] as const;
export type AllowanceAction = (typeof ALLOWANCE_ACTIONS)[number];

/** A short, stable description of a principal for logs and audit fields ("user:alice", "site:nersc"). */
export function describePrincipal(principal: Principal): string {
  return principal.kind === 'user' ? `user:${principal.username}` : `site:${principal.siteId}`;
}
