import { Controller, Get, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RequireAllowance, RequireSite } from '../src/auth/decorators.js';
import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, createUser, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';

@ApiExcludeController()
@Controller('probe-auth')
class ProbeAuthController {
  @Get('launch')
  @RequireAllowance('runs:launch')
  launch(): { ok: true } {
    return { ok: true };
  }

  @Get('site-only')
  @RequireSite()
  siteOnly(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [ProbeAuthController] })
class ProbeAuthModule {}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

describe('authentication and authorisation', () => {
  let hub: TestHub;
  let adminToken: string;
  const secretsSeen: string[] = [];

  beforeAll(async () => {
    hub = await startTestHub({
      env: { ...ADMIN_ENV, TOKEN_RATE_LIMIT: '1000' },
      extraModules: [ProbeAuthModule],
    });
    adminToken = await passwordToken(hub, ADMIN.username, ADMIN.password);
    secretsSeen.push(ADMIN.password);
  });
  afterAll(async () => {
    await hub.close();
  });

  describe('POST /token', () => {
    it('issues a user token from a form-encoded password grant', async () => {
      const res = await hub.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({
          grant_type: 'password',
          username: ADMIN.username,
          password: ADMIN.password,
          scope: '',
        }),
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({
        token_type: 'bearer',
        expires_in: 86400,
        expires: { days: 1, hours: 0, minutes: 0 },
      });
      const claims = jwt.decode(body.access_token) as Record<string, unknown>;
      expect(claims.sub).toBe('user:admin');
      expect(typeof claims.jti).toBe('string');
      expect(claims.exp).toBe((claims.iat as number) + 86400);
    });

    it('issues a site token from client credentials, as form fields or HTTP Basic', async () => {
      const site = await createSiteWithClient(hub, adminToken, 'token-site');
      secretsSeen.push(site.clientSecret);
      const viaForm = await hub.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({
          grant_type: 'client_credentials',
          client_id: site.clientId,
          client_secret: site.clientSecret,
        }),
      });
      expect(viaForm.statusCode).toBe(200);
      expect((jwt.decode(viaForm.json().access_token) as { sub: string }).sub).toBe(
        `client:${site.clientId}`,
      );
      const viaBasic = await hub.inject({
        method: 'POST',
        url: '/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${site.clientId}:${site.clientSecret}`).toString('base64')}`,
        },
        payload: form({ grant_type: 'client_credentials' }),
      });
      expect(viaBasic.statusCode).toBe(200);
      const me = await hub.inject({
        method: 'GET',
        url: '/users/me',
        headers: bearer(viaBasic.json().access_token),
      });
      expect(me.json()).toEqual({ client_id: site.clientId, site_id: 'token-site' });
    });

    it('answers every credential failure with one and the same 401', async () => {
      const site = await createSiteWithClient(hub, adminToken, 'wrong-secret-site');
      secretsSeen.push(site.clientSecret);
      const attempts = [
        { grant_type: 'password', username: ADMIN.username, password: 'not-the-password' },
        { grant_type: 'password', username: 'nobody-here', password: 'whatever-password' },
        { grant_type: 'client_credentials', client_id: 'sys0nosuchclient', client_secret: 'x'.repeat(32) },
        { grant_type: 'client_credentials', client_id: site.clientId, client_secret: 'y'.repeat(32) },
      ];
      const answers = await Promise.all(
        attempts.map((payload) => hub.inject({ method: 'POST', url: '/token', payload })),
      );
      for (const res of answers) {
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toContain('Bearer');
      }
      const details = new Set(answers.map((r) => r.json().detail));
      expect([...details]).toEqual(['Invalid credentials']);
    });

    it('says which field a grant is missing', async () => {
      const res = await hub.inject({
        method: 'POST',
        url: '/token',
        payload: { grant_type: 'password', username: 'admin' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([{ path: 'password', message: 'required for grant_type=password' }]);
      const bad = await hub.inject({ method: 'POST', url: '/token', payload: { grant_type: 'implicit' } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors[0].path).toBe('grant_type');
    });
  });

  describe('bearer tokens', () => {
    const secret = (): string => hub.config.secrets.jwtSecret;

    it('refuses a request without a token on a protected route', async () => {
      const res = await hub.inject({ method: 'GET', url: '/users/me' });
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toMatch(/bearer token/);
    });

    it('refuses expired, malformed, wrongly signed and subject-less tokens', async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = jwt.sign({ sub: 'user:admin', jti: 'a', exp: now - 10 }, secret(), {
        algorithm: 'HS256',
      });
      const wrongKey = jwt.sign(
        { sub: 'user:admin', jti: 'b', exp: now + 600 },
        'another-secret-of-at-least-32-chars!',
        { algorithm: 'HS256' },
      );
      const noneAlg = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'user:admin', jti: 'c', exp: now + 600 })).toString('base64url')}.`;
      const badSubject = jwt.sign({ sub: 'robot:x', jti: 'd', exp: now + 600 }, secret(), {
        algorithm: 'HS256',
      });
      const noJti = jwt.sign({ sub: 'user:admin', exp: now + 600 }, secret(), { algorithm: 'HS256' });
      const cases: Array<[string, RegExp]> = [
        [expired, /expired/],
        ['not.a.jwt', /invalid/],
        ['garbage', /invalid/],
        [wrongKey, /invalid/],
        [noneAlg, /invalid/],
        [badSubject, /subject/],
        [noJti, /jti/],
      ];
      for (const [token, message] of cases) {
        const res = await hub.inject({ method: 'GET', url: '/users/me', headers: bearer(token) });
        expect(res.statusCode, token).toBe(401);
        expect(res.json().detail).toMatch(message);
      }
    });

    it('stops accepting a token once it is revoked', async () => {
      const token = await passwordToken(hub, ADMIN.username, ADMIN.password);
      // More than once: the first request verifies the token, later ones are decided from the cache.
      for (let i = 0; i < 3; i++) {
        expect(
          (await hub.inject({ method: 'GET', url: '/users/me', headers: bearer(token) })).statusCode,
        ).toBe(200);
      }
      const revoke = await hub.inject({ method: 'POST', url: '/token:revoke', headers: bearer(token) });
      expect(revoke.statusCode).toBe(204);
      const after = await hub.inject({ method: 'GET', url: '/users/me', headers: bearer(token) });
      expect(after.statusCode).toBe(401);
      expect(after.json().detail).toMatch(/revoked/);
      expect(
        (await hub.inject({ method: 'GET', url: '/users/me', headers: bearer(adminToken) })).statusCode,
      ).toBe(200);
    });

    it('serves a public route to a caller whose token it cannot verify, as anonymous', async () => {
      expect((await hub.inject({ method: 'GET', url: '/sites' })).statusCode).toBe(200);
      expect(
        (await hub.inject({ method: 'GET', url: '/sites', headers: bearer('garbage') })).statusCode,
      ).toBe(200);
    });
  });

  describe('users', () => {
    it('creates users (admin only), refuses duplicates and short passwords', async () => {
      const bob = await createUser(hub, adminToken, 'bob', { email: 'bob@example.org', full_name: 'Bob' });
      secretsSeen.push(bob.password);
      const dup = await hub.inject({
        method: 'POST',
        url: '/users',
        headers: bearer(adminToken),
        payload: { username: 'bob', password: 'another-long-password' },
      });
      expect(dup.statusCode).toBe(409);
      const short = await hub.inject({
        method: 'POST',
        url: '/users',
        headers: bearer(adminToken),
        payload: { username: 'carol', password: 'short-pw' },
      });
      expect(short.statusCode).toBe(400);
      expect(short.json().errors).toEqual([
        { path: 'password', message: 'password must be at least 12 characters' },
      ]);
      const byNonAdmin = await hub.inject({
        method: 'POST',
        url: '/users',
        headers: bearer(bob.token),
        payload: { username: 'eve', password: 'eve-password-long' },
      });
      expect(byNonAdmin.statusCode).toBe(403);
      const me = await hub.inject({ method: 'GET', url: '/users/me', headers: bearer(bob.token) });
      expect(me.json()).toMatchObject({
        username: 'bob',
        email: 'bob@example.org',
        full_name: 'Bob',
        is_admin: false,
        site_admin: [],
        disabled: false,
      });
      expect(me.body).not.toContain('password');
      expect(me.body).not.toContain('argon2');
    });

    it('changes only the fields a PATCH sends', async () => {
      await createUser(hub, adminToken, 'dave', { email: 'dave@example.org', full_name: 'Dave' });
      const res = await hub.inject({
        method: 'PATCH',
        url: '/users/dave',
        headers: bearer(adminToken),
        payload: { full_name: 'David' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        username: 'dave',
        email: 'dave@example.org',
        full_name: 'David',
        disabled: false,
      });
      const unknown = await hub.inject({
        method: 'PATCH',
        url: '/users/nobody',
        headers: bearer(adminToken),
        payload: { full_name: 'X' },
      });
      expect(unknown.statusCode).toBe(404);
      const extra = await hub.inject({
        method: 'PATCH',
        url: '/users/dave',
        headers: bearer(adminToken),
        payload: { username: 'renamed' },
      });
      expect(extra.statusCode).toBe(400);
    });

    it('gives a disabled user no token and stops its existing tokens', async () => {
      const frank = await createUser(hub, adminToken, 'frank');
      secretsSeen.push(frank.password);
      for (let i = 0; i < 3; i++) {
        expect(
          (await hub.inject({ method: 'GET', url: '/users/me', headers: bearer(frank.token) })).statusCode,
        ).toBe(200);
      }
      await hub.inject({
        method: 'PATCH',
        url: '/users/frank',
        headers: bearer(adminToken),
        payload: { disabled: true },
      });
      const old = await hub.inject({ method: 'GET', url: '/users/me', headers: bearer(frank.token) });
      expect(old.statusCode).toBe(401);
      const fresh = await hub.inject({
        method: 'POST',
        url: '/token',
        payload: { grant_type: 'password', username: 'frank', password: frank.password },
      });
      expect(fresh.statusCode).toBe(401);
      expect(fresh.json().detail).toBe('Invalid credentials');
    });

    it('lists users page by page for admins', async () => {
      for (const name of ['page-a', 'page-b', 'page-c']) {
        await hub.inject({
          method: 'POST',
          url: '/users',
          headers: bearer(adminToken),
          payload: { username: name, password: `${name}-password-xx` },
        });
      }
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const url: string = `/users?max_page_size=2&filter=${encodeURIComponent('{"username":{"$regex":"^page-"}}')}${token ? `&page_token=${token}` : ''}`;
        const res = await hub.inject({ method: 'GET', url, headers: bearer(adminToken) });
        expect(res.statusCode).toBe(200);
        seen.push(...res.json().resources.map((u: { username: string }) => u.username));
        token = res.json().next_page_token;
      } while (token);
      expect(seen).toEqual(['page-a', 'page-b', 'page-c']);
    });
  });

  describe('sites', () => {
    it('creates a site, makes the creator its admin and lists it publicly', async () => {
      const gina = await createUser(hub, adminToken, 'gina');
      const res = await hub.inject({
        method: 'POST',
        url: '/sites',
        headers: bearer(gina.token),
        payload: { id: 'gina-site', capability_ids: ['a', 'b'] },
      });
      expect(res.statusCode).toBe(201);
      // Declared by a user who is not an admin, capabilities wait for an admin's approval.
      expect(res.json()).toMatchObject({
        id: 'gina-site',
        capability_ids: [],
        requested_capability_ids: ['a', 'b'],
      });
      const dup = await hub.inject({
        method: 'POST',
        url: '/sites',
        headers: bearer(gina.token),
        payload: { id: 'gina-site' },
      });
      expect(dup.statusCode).toBe(409);
      const me = await hub.inject({ method: 'GET', url: '/users/me', headers: bearer(gina.token) });
      expect(me.json().site_admin).toEqual(['gina-site']);
      const listed = await hub.inject({
        method: 'GET',
        url: `/sites?filter=${encodeURIComponent('{"id":"gina-site"}')}`,
      });
      expect(listed.json().resources).toHaveLength(1);
      const one = await hub.inject({ method: 'GET', url: '/sites/gina-site' });
      expect(one.statusCode).toBe(200);
      expect(one.body).not.toContain('clients');
      expect((await hub.inject({ method: 'GET', url: '/sites/nope' })).statusCode).toBe(404);
      const patched = await hub.inject({
        method: 'PATCH',
        url: '/sites/gina-site',
        headers: bearer(gina.token),
        payload: { description: 'GPU cluster' },
      });
      expect(patched.json()).toMatchObject({
        description: 'GPU cluster',
        capability_ids: [],
        requested_capability_ids: ['a', 'b'],
      });
    });

    it("has the hub's own site from the start", async () => {
      const res = await hub.inject({ method: 'GET', url: '/sites/runtime-hub' });
      expect(res.statusCode).toBe(200);
    });

    it('refuses filters on fields a site does not expose, and unknown operators', async () => {
      const hidden = await hub.inject({
        method: 'GET',
        url: `/sites?filter=${encodeURIComponent('{"clients.secret_hash":{"$regex":"^a"}}')}`,
      });
      expect(hidden.statusCode).toBe(400);
      const where = await hub.inject({
        method: 'GET',
        url: `/sites?filter=${encodeURIComponent('{"$where":"1"}')}`,
      });
      expect(where.statusCode).toBe(400);
      expect(where.json().detail).toMatch(/\$where is not allowed/);
    });

    it('lets only the site and its admins manage it', async () => {
      const henry = await createUser(hub, adminToken, 'henry');
      const ivy = await createUser(hub, adminToken, 'ivy');
      const siteA = await createSiteWithClient(hub, henry.token, 'site-a');
      const siteB = await createSiteWithClient(hub, ivy.token, 'site-b');
      secretsSeen.push(siteA.clientSecret, siteB.clientSecret);
      const crossClient = await hub.inject({
        method: 'PATCH',
        url: '/sites/site-b',
        headers: bearer(siteA.token),
        payload: { description: 'hijacked' },
      });
      expect(crossClient.statusCode).toBe(403);
      expect(crossClient.json().detail).toMatch(/acts for site "site-a"/);
      const crossUser = await hub.inject({
        method: 'POST',
        url: '/sites/site-b:generateCredentials',
        headers: bearer(henry.token),
      });
      expect(crossUser.statusCode).toBe(403);
      const ownClient = await hub.inject({
        method: 'PATCH',
        url: '/sites/site-a',
        headers: bearer(siteA.token),
        payload: { capability_ids: ['x'] },
      });
      expect(ownClient.statusCode).toBe(200);
      const siteOnly = await hub.inject({
        method: 'GET',
        url: '/probe-auth/site-only',
        headers: bearer(henry.token),
      });
      expect(siteOnly.statusCode).toBe(403);
      expect(
        (await hub.inject({ method: 'GET', url: '/probe-auth/site-only', headers: bearer(siteA.token) }))
          .statusCode,
      ).toBe(200);
    });

    it('revokes a site client so its tokens stop working', async () => {
      const site = await createSiteWithClient(hub, adminToken, 'revoke-site');
      for (let i = 0; i < 3; i++) {
        expect(
          (await hub.inject({ method: 'GET', url: '/users/me', headers: bearer(site.token) })).statusCode,
        ).toBe(200);
      }
      const del = await hub.inject({
        method: 'DELETE',
        url: `/sites/revoke-site/clients/${site.clientId}`,
        headers: bearer(adminToken),
      });
      expect(del.statusCode).toBe(204);
      expect(
        (await hub.inject({ method: 'GET', url: '/users/me', headers: bearer(site.token) })).statusCode,
      ).toBe(401);
      const again = await hub.inject({
        method: 'DELETE',
        url: `/sites/revoke-site/clients/${site.clientId}`,
        headers: bearer(adminToken),
      });
      expect(again.statusCode).toBe(404);
    });
  });

  describe('allowances', () => {
    it('grants, lists and revokes allowances; admins hold every action', async () => {
      const jack = await createUser(hub, adminToken, 'jack');
      expect(
        (await hub.inject({ method: 'GET', url: '/probe-auth/launch', headers: bearer(jack.token) }))
          .statusCode,
      ).toBe(403);
      expect(
        (await hub.inject({ method: 'GET', url: '/probe-auth/launch', headers: bearer(adminToken) }))
          .statusCode,
      ).toBe(200);
      const grant = await hub.inject({
        method: 'POST',
        url: '/admin/allowances',
        headers: bearer(adminToken),
        payload: { username: 'jack', action: 'runs:launch' },
      });
      expect(grant.statusCode).toBe(201);
      expect(
        (
          await hub.inject({
            method: 'POST',
            url: '/admin/allowances',
            headers: bearer(adminToken),
            payload: { username: 'jack', action: 'runs:launch' },
          })
        ).statusCode,
      ).toBe(409);
      expect(
        (await hub.inject({ method: 'GET', url: '/probe-auth/launch', headers: bearer(jack.token) }))
          .statusCode,
      ).toBe(200);
      const listed = await hub.inject({
        method: 'GET',
        url: '/admin/allowances?username=jack',
        headers: bearer(adminToken),
      });
      expect(listed.json().resources.map((a: { action: string }) => a.action)).toEqual(['runs:launch']);
      const del = await hub.inject({
        method: 'DELETE',
        url: '/admin/allowances?username=jack&action=runs:launch',
        headers: bearer(adminToken),
      });
      expect(del.statusCode).toBe(204);
      expect(
        (await hub.inject({ method: 'GET', url: '/probe-auth/launch', headers: bearer(jack.token) }))
          .statusCode,
      ).toBe(403);
      expect(
        (
          await hub.inject({
            method: 'DELETE',
            url: '/admin/allowances?username=jack&action=runs:launch',
            headers: bearer(adminToken),
          })
        ).statusCode,
      ).toBe(404);
    });

    it('validates actions and users, and lists the actions', async () => {
      const actions = await hub.inject({
        method: 'GET',
        url: '/admin/allowances/actions',
        headers: bearer(adminToken),
      });
      expect(actions.json()).toEqual([
        'changesheets:submit',
        'exports:run',
        'json:submit',
        'objects:admin',
        'queries:write',
        'runs:launch',
        'sites:admin',
      ]);
      const badAction = await hub.inject({
        method: 'POST',
        url: '/admin/allowances',
        headers: bearer(adminToken),
        payload: { username: 'jack', action: 'root' },
      });
      expect(badAction.statusCode).toBe(400);
      const noUser = await hub.inject({
        method: 'POST',
        url: '/admin/allowances',
        headers: bearer(adminToken),
        payload: { username: 'ghost', action: 'json:submit' },
      });
      expect(noUser.statusCode).toBe(422);
      const jack = await passwordToken(hub, 'jack', 'jack-secret-password');
      expect(
        (await hub.inject({ method: 'GET', url: '/admin/allowances', headers: bearer(jack) })).statusCode,
      ).toBe(403);
    });
  });

  it('never writes a password, secret or hash into a response or a log line', () => {
    const logs = hub.logs.join('\n');
    for (const secret of secretsSeen) {
      expect(logs).not.toContain(secret);
    }
    expect(logs).not.toMatch(/\$argon2id\$/);
    expect(logs).not.toMatch(/"password_hash"|"secret_hash"/);
  });
});

describe('POST /token rate limit', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ...ADMIN_ENV, TOKEN_RATE_LIMIT: '3' } });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('answers 429 with Retry-After past the limit for one address and account', async () => {
    const attempt = (username: string) =>
      hub.inject({
        method: 'POST',
        url: '/token',
        payload: { grant_type: 'password', username, password: 'wrong-password-123' },
      });
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await attempt('target')).statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const limited = await attempt('target');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect((await attempt('someone-else')).statusCode).toBe(401);
  });
});

describe('POST /token per-address limit', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ...ADMIN_ENV } });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('stops one address spraying passwords over many accounts, and spares other addresses', async () => {
    const attempt = (username: string, remoteAddress = '127.0.0.1') =>
      hub.inject({
        method: 'POST',
        url: '/token',
        remoteAddress,
        payload: { grant_type: 'password', username, password: 'spring-2026-password' },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push((await attempt(`user-${i}`)).statusCode);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(20);
    const limited = await attempt('admin');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json().detail).toMatch(/address/);
    // Another address is not affected, and a correct password there works.
    const elsewhere = await hub.inject({
      method: 'POST',
      url: '/token',
      remoteAddress: '127.0.0.2',
      payload: { grant_type: 'password', username: ADMIN.username, password: ADMIN.password },
    });
    expect(elsewhere.statusCode, elsewhere.body).toBe(200);
  });
});
