import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestHub, type TestHub } from './support/harness.js';
import { assembly, biosample, dataObject, nmdcId, seed, sequencing, study } from './support/metadata.js';

describe('JSON metadata validation', () => {
  let hub: TestHub;

  const validate = (payload: unknown) =>
    hub.inject({
      method: 'POST',
      url: '/metadata/json:validate',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });

  beforeAll(async () => {
    hub = await startTestHub();
    await seed(hub, { study_set: [study(1)], data_object_set: [dataObject(1)] });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('accepts a consistent payload whose references point into itself or the store', async () => {
    const res = await validate({
      '@type': 'nmdc:Database',
      study_set: [study(2)],
      biosample_set: [biosample(1, nmdcId('sty', 1)), biosample(2, nmdcId('sty', 2))],
      data_object_set: [dataObject(2)],
      data_generation_set: [sequencing(1, nmdcId('sty', 2), nmdcId('bsm', 2), [nmdcId('dobj', 2)])],
      workflow_execution_set: [assembly(1, nmdcId('dgns', 1), [nmdcId('dobj', 1), nmdcId('dobj', 2)])],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      valid: true,
      counts: {
        study_set: 1,
        biosample_set: 2,
        data_object_set: 1,
        data_generation_set: 1,
        workflow_execution_set: 1,
      },
      result: 'All Okay!',
    });
    const stored = await hub.inject({ method: 'GET', url: `/metadata/study_set/${nmdcId('sty', 2)}` });
    expect(stored.statusCode).toBe(404);
  });

  it('accepts empty and null collections', async () => {
    const res = await validate({ study_set: [], biosample_set: null });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ valid: true, counts: { study_set: 0 }, result: 'All Okay!' });
  });

  it("reports schema problems and unknown collections as a 200 with JSON pointers and NMDC's detail", async () => {
    const res = await validate({
      biosample_set: [{ ...biosample(1, nmdcId('sty', 1)), name: 7, depth: { has_numeric_value: 'deep' } }],
      users: [{ username: 'x' }],
      '@type': 'Spreadsheet',
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ valid: false, result: 'errors' });
    expect(body.problem_count).toBe(body.errors.length);
    expect(body.detail.biosample_set).toEqual(
      expect.arrayContaining(['/biosample_set/0/name: must be string,null']),
    );
    expect(body.detail.users).toHaveLength(1);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { path: '/biosample_set/0/name', message: 'must be string,null' },
        { path: '/biosample_set/0/depth/has_numeric_value', message: 'must be number,null' },
        {
          path: '/users',
          message: expect.stringMatching(/is not a metadata collection; known: biosample_set/),
        },
        { path: '/@type', message: 'must be "Database" or "nmdc:Database" when given' },
      ]),
    );
  });

  it('refuses ids used twice in the payload or already stored', async () => {
    const res = await validate({
      study_set: [study(1), study(3), study(3)],
    });
    expect(res.json()).toMatchObject({ valid: false, result: 'errors' });
    expect(res.json().errors).toEqual([
      { path: '/study_set/2/id', message: 'duplicates the id at /study_set/1/id' },
    ]);
    const stored = await validate({ study_set: [study(1)] });
    expect(stored.json()).toMatchObject({ valid: false, result: 'errors' });
    expect(stored.json().errors).toEqual([
      {
        path: '/study_set/0/id',
        message: expect.stringMatching(/nmdc:sty-11-00000001 already exists in study_set/),
      },
    ]);
  });

  it('refuses references found neither in the payload nor in the store', async () => {
    const res = await validate({
      biosample_set: [biosample(5, nmdcId('sty', 404))],
      workflow_execution_set: [assembly(2, nmdcId('dgns', 9), [nmdcId('dobj', 1)])],
    });
    expect(res.json()).toMatchObject({ valid: false, result: 'errors' });
    expect(res.json().errors).toEqual([
      {
        path: '/biosample_set/0/associated_studies/0',
        message: `refers to ${nmdcId('sty', 404)}, which is neither in this submission nor stored in study_set`,
      },
      {
        path: '/workflow_execution_set/0/was_informed_by/0',
        message: `refers to ${nmdcId('dgns', 9)}, which is neither in this submission nor stored in data_generation_set`,
      },
    ]);
  });

  it('says what is wrong with a body that is not a Database object', async () => {
    const list = await validate([study(5)]);
    expect(list.statusCode).toBe(200);
    expect(list.json().detail).toEqual({ Database: ['/: must be a JSON object keyed by collection name'] });
    expect(list.json().errors).toEqual([
      { path: '/', message: 'must be a JSON object keyed by collection name' },
    ]);
    const notJson = await hub.inject({
      method: 'POST',
      url: '/metadata/json:validate',
      headers: { 'content-type': 'application/json' },
      payload: '{"study_set": [',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().code).toBe('invalid_json');
  });
});
