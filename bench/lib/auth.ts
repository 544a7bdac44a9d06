/** The admin every benchmark starts its hub with. */
export const BENCH_ADMIN = { username: 'bench-admin', password: 'bench-admin-password' } as const;

/** The hub environment that creates {@link BENCH_ADMIN} at boot. */
export const BENCH_ADMIN_ENV: Record<string, string> = {
  ADMIN_USERNAME: BENCH_ADMIN.username,
  ADMIN_PASSWORD: BENCH_ADMIN.password,
};

/**
 * A bearer token from `POST /token` (the bench admin's password grant unless told otherwise). Retried for
 * a while, because the hub creates its bootstrap admin just after it starts listening.
 */
export async function fetchToken(
  url: string,
  grant: Record<string, string> = { grant_type: 'password', ...BENCH_ADMIN },
): Promise<string> {
  let last = '';
  for (let attempt = 0; attempt < 50; attempt++) {
    const res = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(grant),
    });
    if (res.ok) {
      return ((await res.json()) as { access_token: string }).access_token;
    }
    last = `${res.status} ${await res.text()}`;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no token for the ${grant.grant_type} grant: ${last}`);
}
