import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bladeChecksOut, parseSchemaId } from '../src/common/ids/schema-ids.js';
import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { seed, study } from './support/metadata.js';

describe('persistent identifiers (/pids)', () => {
  let hub: TestHub;
  let adminToken: string;
  let siteToken: string;
  let otherSiteToken: string;

  const mint = (token: string, payload: Record<string, unknown>) =>
    hub.inject({ method: 'POST', url: '/pids/mint', headers: bearer(token), payload });

  beforeAll(async () => {
    hub = await startTestHub({ env: ADMIN_ENV });
    adminToken = await passwordToken(hub, ADMIN.username, ADMIN.password);
    siteToken = (await createSiteWithClient(hub, adminToken, 'minting-site')).token;
    otherSiteToken = (await createSiteWithClient(hub, adminToken, 'other-site')).token;
  });
  afterAll(async () => {
    await hub.close();
  });

  it('mints stored, unique draft ids with check digits for a schema class', async () => {
    const res = await mint(siteToken, { schema_class: { id: 'nmdc:Biosample' }, how_many: 3 });
    expect(res.statusCode).toBe(201);
    const ids = res.json<string[]>();
    expect(ids).toHaveLength(3);
    for (const id of ids) {
      expect(id).toMatch(/^nmdc:bsm-11-[0-9a-hjkmnp-tv-z]{6}\d{2}$/);
      expect(bladeChecksOut(parseSchemaId(id)?.blade ?? '')).toBe(true);
    }
    const resolved = await hub.inject({
      method: 'GET',
      url: `/pids/resolve/${ids[0]}`,
      headers: bearer(siteToken),
    });
    expect(resolved.statusCode).toBe(200);
    expect(resolved.json()).toMatchObject({
      id: ids[0],
      schema_class: 'nmdc:Biosample',
      typecode: 'bsm',
      shoulder: '11',
      status: 'draft',
      minted_by: 'minting-site',
    });
    const byName = await mint(siteToken, { schema_class: { id: 'MetagenomeAssembly' } });
    expect(byName.json()[0]).toMatch(/^nmdc:wfmgas-11-/);
  });

  it('mints 1000 ids in one call, all distinct', async () => {
    const res = await mint(siteToken, { schema_class: { id: 'nmdc:DataObject' }, how_many: 1000 });
    expect(res.statusCode).toBe(201);
    expect(new Set(res.json()).size).toBe(1000);
  });

  it.each([
    [{ schema_class: { id: 'nmdc:Biosample' }, how_many: 1001 }, /at most 1000/],
    [{ schema_class: { id: 'nmdc:Biosample' }, how_many: 0 }, /at least 1/],
    [{ schema_class: { id: 'nmdc:Biosample' }, how_many: 'many' }, /integer/],
    [
      { schema_class: { id: 'nmdc:Unicorn' } },
      /not a class of the metadata schema; mintable classes: .*nmdc:Biosample/,
    ],
    [{ schema_class: 'nmdc:Biosample' }, /schema_class/],
    [{}, /schema_class/],
  ])('refuses a bad mint request %j with 400', async (payload, detail) => {
    const res = await mint(siteToken, payload);
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toMatch(detail);
  });

  it('lets only site clients mint', async () => {
    expect((await mint(adminToken, { schema_class: { id: 'nmdc:Study' } })).statusCode).toBe(403);
    const anonymous = await hub.inject({
      method: 'POST',
      url: '/pids/mint',
      payload: { schema_class: { id: 'nmdc:Study' } },
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('answers 400 for malformed or mistyped ids and 404 for unknown ones, never 500', async () => {
    const [id] = (await mint(siteToken, { schema_class: { id: 'nmdc:Study' } })).json<string[]>();
    const blade = parseSchemaId(id ?? '')?.blade ?? '';
    const mistyped = (id ?? '').replace(
      blade,
      `${blade.slice(0, 6)}${blade[6] === '9' ? '0' : '9'}${blade[7]}`,
    );
    const cases: Array<[string, number, RegExp]> = [
      ['not-an-id', 400, /not a schema id/],
      ['nmdc:sty-11-', 400, /not a schema id/],
      [encodeURIComponent('nmdc:sty-11-abc/def'), 400, /not a schema id/],
      [mistyped, 400, /check digits/],
      ['nmdc:sty-11-zzzzzz00', 400, /check digits/],
      ['nmdc:sty-99-whatever', 404, /No id/],
    ];
    for (const [candidate, status, detail] of cases) {
      for (const [method, url, payload] of [
        ['GET', `/pids/resolve/${candidate}`, undefined],
        ['POST', '/pids/bind', { id_name: decodeURIComponent(candidate), metadata_record: {} }],
        ['POST', '/pids/delete', { id_name: decodeURIComponent(candidate) }],
      ] as const) {
        const res = await hub.inject({
          method,
          url,
          headers: bearer(siteToken),
          ...(payload ? { payload } : {}),
        });
        expect(res.statusCode, `${method} ${url} ${candidate}`).toBe(status);
        expect(res.json().detail).toMatch(detail);
      }
    }
  });

  it('binds a record to a draft and deletes drafts, for the minting site only', async () => {
    const [id] = (await mint(siteToken, { schema_class: { id: 'nmdc:Study' } })).json<string[]>();
    const record = { name: 'A study to be', study_category: 'research_study' };
    const foreign = await hub.inject({
      method: 'POST',
      url: '/pids/bind',
      headers: bearer(otherSiteToken),
      payload: { id_name: id, metadata_record: record },
    });
    expect(foreign.statusCode).toBe(403);
    const wrongId = await hub.inject({
      method: 'POST',
      url: '/pids/bind',
      headers: bearer(siteToken),
      payload: { id_name: id, metadata_record: { id: 'nmdc:sty-11-other' } },
    });
    expect(wrongId.statusCode).toBe(400);
    const bound = await hub.inject({
      method: 'POST',
      url: '/pids/bind',
      headers: bearer(siteToken),
      payload: { id_name: id, metadata_record: record },
    });
    expect(bound.statusCode).toBe(200);
    expect(bound.json()).toMatchObject({ id, status: 'draft', bindings: record });
    const notObject = await hub.inject({
      method: 'POST',
      url: '/pids/bind',
      headers: bearer(siteToken),
      payload: { id_name: id, metadata_record: 'text' },
    });
    expect(notObject.statusCode).toBe(400);

    expect(
      (
        await hub.inject({
          method: 'POST',
          url: '/pids/delete',
          headers: bearer(otherSiteToken),
          payload: { id_name: id },
        })
      ).statusCode,
    ).toBe(403);
    const deleted = await hub.inject({
      method: 'POST',
      url: '/pids/delete',
      headers: bearer(siteToken),
      payload: { id_name: id },
    });
    expect(deleted.statusCode).toBe(204);
    expect(
      (await hub.inject({ method: 'GET', url: `/pids/resolve/${id}`, headers: bearer(siteToken) }))
        .statusCode,
    ).toBe(404);
  });

  it('registers an id once a stored document carries it; registered ids cannot be deleted or rebound', async () => {
    const [id] = (await mint(siteToken, { schema_class: { id: 'nmdc:Study' } })).json<string[]>();
    await seed(hub, { study_set: [{ ...study(1), id }] });
    const resolved = await hub.inject({
      method: 'GET',
      url: `/pids/resolve/${id}`,
      headers: bearer(siteToken),
    });
    expect(resolved.json().status).toBe('registered');
    const deleted = await hub.inject({
      method: 'POST',
      url: '/pids/delete',
      headers: bearer(siteToken),
      payload: { id_name: id },
    });
    expect(deleted.statusCode).toBe(409);
    expect(deleted.json().detail).toMatch(/registered; only draft ids/);
    const bound = await hub.inject({
      method: 'POST',
      url: '/pids/bind',
      headers: bearer(siteToken),
      payload: { id_name: id, metadata_record: {} },
    });
    expect(bound.statusCode).toBe(409);
  });
});
