import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, bearer, createUser, grantAllowance, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { nmdcId, seed, study } from './support/metadata.js';
import { FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';

const SENSORS = ['claim_and_run_apply_changesheet_jobs', 'process_workflow_job_triggers'];
const tsv = (...rows: string[]): string => `${['id\taction\tattribute\tvalue', ...rows].join('\n')}\n`;

interface Summary {
  object_id: string;
  status: string;
  submitted_by: string;
  documents: number;
  applied_at?: string;
  reverted_at?: string;
}

describe('listing changesheets, and the documents before and after an applied one', () => {
  let hub: TestHub;
  let curator: string;
  const list = (query: string, token = curator) =>
    hub.inject({ method: 'GET', url: `/metadata/changesheets${query}`, headers: bearer(token) });
  const status = async (id: string) =>
    (
      await hub.inject({ method: 'GET', url: `/metadata/changesheets/${id}`, headers: bearer(curator) })
    ).json();
  const submit = async (sheet: string): Promise<string> => {
    const res = await hub.inject({
      method: 'POST',
      url: '/metadata/changesheets:submit',
      headers: { ...bearer(curator), 'content-type': 'text/tab-separated-values' },
      payload: sheet,
    });
    expect(res.statusCode, res.body).toBe(202);
    return res.json<{ object: { id: string } }>().object.id;
  };
  const applied = (id: string) =>
    waitFor(
      `changesheet ${id} to be applied`,
      async () => {
        const s = await status(id);
        return s.status === 'applied' ? s : undefined;
      },
      60_000,
      200,
    );

  beforeAll(async () => {
    const { ORCH_CODE_LOCATIONS: _fixtures, ...env } = FAST_ORCHESTRATOR_ENV;
    hub = await startTestHub({
      env: {
        ...env,
        ORCH_SENSOR_INTERVALS: JSON.stringify(Object.fromEntries(SENSORS.map((s) => [s, 0.3]))),
      },
    });
    const admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    curator = (await createUser(hub, admin, 'curator')).token;
    await grantAllowance(hub, admin, 'curator', 'changesheets:submit');
    await seed(hub, { study_set: [study(1), study(2)] });
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('lists sheets newest first, filters by status, pages with tokens, and shows before/after once applied', async () => {
    const empty = await list('');
    expect(empty.statusCode, empty.body).toBe(200);
    expect(empty.json()).toEqual({ resources: [] });

    const first = await submit(tsv(`${nmdcId('sty', 1)}\tupdate\tname\tFirst, renamed`));
    const firstApplied = await applied(first);
    const second = await submit(tsv(`${nmdcId('sty', 2)}\tupdate\tname\tSecond, renamed`));
    await applied(second);
    const reverted = await hub.inject({
      method: 'POST',
      url: `/metadata/changesheets/${first}:revert`,
      headers: bearer(curator),
    });
    expect(reverted.statusCode, reverted.body).toBe(200);

    const all = (await list('')).json<{ resources: Summary[] }>();
    expect(all.resources.map((s) => [s.object_id, s.status])).toEqual([
      [second, 'applied'],
      [first, 'reverted'],
    ]);
    expect(all.resources[0]).toMatchObject({ submitted_by: 'user:curator', documents: 1 });
    expect(all.resources[1]?.reverted_at).toBeDefined();

    const onlyApplied = (await list('?status=applied')).json<{ resources: Summary[] }>();
    expect(onlyApplied.resources.map((s) => s.object_id)).toEqual([second]);

    const page1 = (await list('?max_page_size=1')).json<{ resources: Summary[]; next_page_token: string }>();
    expect(page1.resources.map((s) => s.object_id)).toEqual([second]);
    const page2 = (
      await list(`?max_page_size=1&page_token=${encodeURIComponent(page1.next_page_token)}`)
    ).json();
    expect(page2.resources.map((s: Summary) => s.object_id)).toEqual([first]);
    expect(page2.next_page_token).toBeUndefined();

    // The applied sheet's status carries the documents from its transaction log.
    const change = firstApplied.changes[0];
    expect(change.before.name).toBe('Study 1');
    expect(change.after.name).toBe('First, renamed');
  });

  it('answers 400 for a bad status, page size or foreign token, and 401 without a token', async () => {
    const bad = await list('?status=done');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail ?? bad.body).toMatch(/status/);
    expect((await list('?max_page_size=0')).statusCode).toBe(400);
    const token = (await list('?max_page_size=1')).json().next_page_token as string;
    const foreign = await list(`?status=reverted&page_token=${encodeURIComponent(token)}`);
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().code).toBe('invalid_page_token');
    const anonymous = await hub.inject({ method: 'GET', url: '/metadata/changesheets' });
    expect(anonymous.statusCode).toBe(401);
  });
});
