import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestHub, type TestHub } from './support/harness.js';
import { biosample, dataObject, nmdcId, seed, study } from './support/metadata.js';

const SAMPLES = 60;

describe('finders (/studies, /biosamples, /data_objects)', () => {
  let hub: TestHub;

  const find = (url: string, query: Record<string, string> = {}) => hub.inject({ method: 'GET', url, query });

  beforeAll(async () => {
    hub = await startTestHub();
    await seed(hub, {
      study_set: [study(1), study(2)],
      biosample_set: Array.from({ length: SAMPLES }, (_, i) => biosample(i + 1, nmdcId('sty', (i % 2) + 1))),
      data_object_set: [dataObject(1), dataObject(2), dataObject(3)],
    });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('filters with attr:value pairs, numeric comparisons and .search, sorted and paged by number', async () => {
    const res = await find('/biosamples', {
      filter: 'ecosystem_category:Plants, lat_lon.latitude:>=40, name.search:^Sample [0-9]+$',
      sort: 'depth.has_numeric_value:desc',
      per_page: '3',
      fields: 'name,depth',
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    // Plants: multiples of 3; latitude 35 + n % 10 >= 40: n % 10 >= 5.
    const matching = Array.from({ length: SAMPLES }, (_, i) => i + 1).filter(
      (n) => n % 3 === 0 && n % 10 >= 5,
    );
    expect(body.meta).toMatchObject({
      mongo_filter_dict: {
        ecosystem_category: 'Plants',
        'lat_lon.latitude': { $gte: 40 },
        name: { $regex: '^Sample [0-9]+$' },
      },
      mongo_sort_list: [['depth.has_numeric_value', -1]],
      count: matching.length,
      page: 1,
      per_page: 3,
      fields: 'name,depth',
    });
    expect(typeof body.meta.db_response_time_ms).toBe('number');
    expect(body.group_by).toEqual([]);
    const expected = matching
      .map((n) => ({ n, depth: n % 50 }))
      .sort((a, b) => b.depth - a.depth || (nmdcId('bsm', a.n) < nmdcId('bsm', b.n) ? -1 : 1));
    expect(body.results).toEqual(
      expected.slice(0, 3).map(({ n, depth }) => ({
        id: nmdcId('bsm', n),
        name: `Sample ${n}`,
        depth: { has_numeric_value: depth, has_unit: 'm', type: 'nmdc:QuantityValue' },
      })),
    );
    const second = await find('/biosamples', {
      filter: 'ecosystem_category:Plants, lat_lon.latitude:>=40, name.search:^Sample [0-9]+$',
      sort: 'depth.has_numeric_value:desc',
      per_page: '3',
      page: '2',
      fields: 'name',
    });
    expect(second.json().results.map((d: { id: string }) => d.id)).toEqual(
      expected.slice(3, 6).map(({ n }) => nmdcId('bsm', n)),
    );
  });

  it('pages with cursors from * until next_cursor is null, counting once', async () => {
    const seen: string[] = [];
    let cursor = '*';
    let pages = 0;
    for (;;) {
      const res = await find('/biosamples', {
        filter: `associated_studies:${nmdcId('sty', 2)}`,
        per_page: '7',
        cursor,
      });
      expect(res.statusCode).toBe(200);
      const { meta, results } = res.json();
      expect(meta.count).toBe(SAMPLES / 2);
      expect(meta.page).toBeNull();
      seen.push(...results.map((d: { id: string }) => d.id));
      pages++;
      if (!meta.next_cursor) {
        expect(meta.next_cursor).toBeNull();
        break;
      }
      cursor = meta.next_cursor;
    }
    expect(pages).toBe(5);
    expect(seen).toEqual(Array.from({ length: SAMPLES / 2 }, (_, i) => nmdcId('bsm', i * 2 + 2)).sort());
  });

  it('answers an empty cursor page with a null next_cursor', async () => {
    const res = await find('/studies', { filter: 'name:Nobody', cursor: '*' });
    expect(res.statusCode).toBe(200);
    expect(res.json().meta).toMatchObject({ count: 0, next_cursor: null });
    expect(res.json().results).toEqual([]);
  });

  it('gets single documents with optional fields', async () => {
    const res = await find(`/studies/${nmdcId('sty', 2)}`, { fields: 'name' });
    expect(res.json()).toEqual({ id: nmdcId('sty', 2), name: 'Study 2' });
    expect((await find(`/data_objects/${nmdcId('dobj', 3)}`)).json()).toEqual(dataObject(3));
    expect((await find(`/biosamples/${nmdcId('bsm', 60)}`)).json().name).toBe('Sample 60');
    expect((await find(`/biosamples/${nmdcId('sty', 1)}`)).statusCode).toBe(404);
  });

  it('lists data objects and studies', async () => {
    const objects = await find('/data_objects', { filter: 'file_size_bytes:>1001' });
    expect(objects.json().results.map((d: { id: string }) => d.id)).toEqual([
      nmdcId('dobj', 2),
      nmdcId('dobj', 3),
    ]);
    const studies = await find('/studies');
    expect(studies.json().meta).toMatchObject({ count: 2, page: 1, per_page: 25, mongo_sort_list: null });
  });

  it.each([
    [{ filter: 'nocolon' }, /attribute:value/],
    [{ filter: 'password_hash:x' }, /password_hash/],
    [{ filter: `name.search:${'a'.repeat(300)}` }, /at most 256/],
    [{ filter: 'name.search:([' }, /not a valid regular expression/],
    [{ sort: 'name:sideways' }, /attribute\[:asc\|desc\]/],
    [{ sort: 'secret' }, /unknown field/],
    [{ fields: 'name,secret' }, /secret/],
    [{ page: '402', per_page: '25' }, /cursor=\*/],
    [{ page: '1', cursor: '*' }, /either page or cursor/],
    [{ cursor: '*', sort: 'name' }, /ordered by id/],
    [{ cursor: 'forged.token' }, /not a token/],
    [{ per_page: '2001' }, /at most 2000/],
    [{ search: 'soil' }, /not supported/],
    [{ group_by: 'name' }, /not supported/],
  ])('answers 400 for %j', async (query, detail) => {
    const res = await find('/biosamples', query);
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toMatch(detail);
  });
});
