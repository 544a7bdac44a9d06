/*
 * The accounts a token can stand for, as authentication reads them. The users and sites features store
 * and administer them and provide the lookups below (their repositories fit these ports), so auth sits
 * beneath both and imports neither.
 */

export interface UserDoc {
  username: string;
  password_hash: string;
  email?: string;
  full_name?: string;
  is_admin: boolean;
  /** Ids of the sites this user administers. */
  site_admin: string[];
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface SiteClientDoc {
  id: string;
  site_id: string;
  secret_hash: string;
  created_by: string;
  created_at: Date;
}

/** Users by name: password grants, the user behind a token, site admins. */
export interface UserAccounts {
  findByUsername(username: string): Promise<UserDoc | null>;
}

/** Site clients by id: client-credential grants and the site behind a token. */
export interface SiteClients {
  findClient(clientId: string): Promise<SiteClientDoc | null>;
}

export const USER_ACCOUNTS = Symbol('USER_ACCOUNTS');
export const SITE_CLIENTS = Symbol('SITE_CLIENTS');
