import type { TestHub } from './harness.js';

export const ADMIN = { username: 'admin', password: 'admin-password-for-tests' } as const;

/** Environment that creates the test admin at boot. */
export const ADMIN_ENV = { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password } as const;

export async function passwordToken(hub: TestHub, username: string, password: string): Promise<string> {
  const res = await hub.inject({
    method: 'POST',
    url: '/token',
    payload: { grant_type: 'password', username, password },
  });
  if (res.statusCode !== 200) {
    throw new Error(`token for ${username}: ${res.statusCode} ${res.body}`);
  }
  return res.json<{ access_token: string }>().access_token;
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

export async function createUser(
  hub: TestHub,
  adminToken: string,
  username: string,
  extra: Record<string, unknown> = {},
): Promise<{ username: string; password: string; token: string }> {
  const password = `${username}-secret-password`;
  const res = await hub.inject({
    method: 'POST',
    url: '/users',
    headers: bearer(adminToken),
    payload: { username, password, ...extra },
  });
  if (res.statusCode !== 201) {
    throw new Error(`create user ${username}: ${res.statusCode} ${res.body}`);
  }
  return { username, password, token: await passwordToken(hub, username, password) };
}

/** Creates a site owned by `ownerToken`'s user and a client for it; returns a site client token. */
export async function createSiteWithClient(
  hub: TestHub,
  ownerToken: string,
  siteId: string,
  capabilityIds: string[] = [],
): Promise<{ clientId: string; clientSecret: string; token: string }> {
  const created = await hub.inject({
    method: 'POST',
    url: '/sites',
    headers: bearer(ownerToken),
    payload: { id: siteId, capability_ids: capabilityIds },
  });
  if (created.statusCode !== 201) {
    throw new Error(`create site ${siteId}: ${created.statusCode} ${created.body}`);
  }
  const creds = await hub.inject({
    method: 'POST',
    url: `/sites/${siteId}:generateCredentials`,
    headers: bearer(ownerToken),
  });
  if (creds.statusCode !== 201) {
    throw new Error(`credentials for ${siteId}: ${creds.statusCode} ${creds.body}`);
  }
  const { client_id: clientId, client_secret: clientSecret } = creds.json<{
    client_id: string;
    client_secret: string;
  }>();
  const token = await hub.inject({
    method: 'POST',
    url: '/token',
    payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
  });
  return { clientId, clientSecret, token: token.json<{ access_token: string }>().access_token };
}

/** Grants `username` an allowance (as the admin whose token is given). */
export async function grantAllowance(
  hub: TestHub,
  adminToken: string,
  username: string,
  action: string,
): Promise<void> {
  const res = await hub.inject({
    method: 'POST',
    url: '/admin/allowances',
    headers: bearer(adminToken),
    payload: { username, action },
  });
  if (res.statusCode !== 201) {
    throw new Error(`grant ${action} to ${username}: ${res.statusCode} ${res.body}`);
  }
}
