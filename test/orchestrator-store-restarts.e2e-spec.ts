import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, bearer, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { study } from './support/metadata.js';
import {
  adminClient,
  FAST_ORCHESTRATOR_ENV,
  waitFor,
  waitForStatus,
  type ApiClient,
} from './support/orchestrator.js';
import { ownFerretDb, ownPostgres, type OwnService } from './support/own-services.js';

/** Spare loopback ports for this file's own PostgreSQL cluster and FerretDB (shared ones untouched). */
const PG_PORT = 31420;
const FERRETDB_PORT = 31430;
const FERRETDB_DEBUG_PORT = 31431;

/**
 * PostgreSQL and FerretDB restart under a running hub: while one is down, requests that need it answer
 * 503 naming it; once it is back the same hub process resumes by itself, and no run stays STARTING or
 * STARTED.
 */
describe('a hub outliving restarts of its stores', () => {
  let postgres: OwnService & { cleanup(): Promise<void> };
  let mongo: OwnService & { cleanup(): Promise<void> };
  let hub: TestHub;
  let api: ApiClient;
  let admin: string;

  beforeAll(async () => {
    postgres = await ownPostgres(PG_PORT);
    mongo = await ownFerretDb(FERRETDB_PORT, FERRETDB_DEBUG_PORT);
    hub = await startTestHub({
      env: {
        ...FAST_ORCHESTRATOR_ENV,
        DATABASE_URL: postgres.url,
        MONGO_URL: mongo.url,
        MONGO_SERVER_SELECTION_TIMEOUT_MS: '1000',
        ORCH_SENSOR_INTERVALS: JSON.stringify({ claim_and_run_metadata_in_jobs: 1 }),
      },
    });
    api = await adminClient(hub);
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
  }, 90_000);
  afterAll(async () => {
    await hub?.close();
    await mongo?.cleanup();
    await postgres?.cleanup();
  });

  /**
   * The op that marks a job done runs inside its run, so the run records SUCCESS a moment after the job
   * reads done; a run the restart really stranded would stay STARTED for minutes, far past this wait.
   */
  const noRunLeftInFlight = async (): Promise<void> => {
    let inFlight: unknown[] = [];
    try {
      await waitFor(
        'no run left STARTING or STARTED',
        async () => {
          const res = await api.inject({
            method: 'GET',
            url: '/orchestrator/runs?status=STARTING&status=STARTED',
          });
          inFlight = res.json<{ resources: unknown[] }>().resources;
          return inFlight.length === 0;
        },
        10_000,
        250,
      );
    } finally {
      expect(inFlight).toEqual([]);
    }
  };

  const launch = async (job: string, payload: object = {}): Promise<string> => {
    const res = await api.inject({ method: 'POST', url: `/orchestrator/jobs/${job}/runs`, payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ runId: string }>().runId;
  };

  it('PostgreSQL down: 503 naming it; back: the hub resumes and the run in flight finishes', async () => {
    const inFlight = await launch('slow_job', { runConfig: { ops: { wait: { config: { ms: 2500 } } } } });
    await waitForStatus(api, inFlight, ['STARTED'], 20_000);

    await postgres.kill();
    const down = await waitFor(
      'a 503 while PostgreSQL is down',
      async () => {
        const res = await api.inject({ method: 'GET', url: '/orchestrator/runs' });
        return res.statusCode === 503 ? res : undefined;
      },
      20_000,
      200,
    );
    expect(down.json()).toMatchObject({
      code: 'dependency_unavailable',
      detail: expect.stringMatching(/PostgreSQL/),
    });
    const refused = await api.inject({
      method: 'POST',
      url: '/orchestrator/jobs/noop_job/runs',
      payload: {},
    });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().detail).toMatch(/PostgreSQL/);

    await postgres.start();
    await waitFor(
      'the API to answer again',
      async () => (await api.inject({ method: 'GET', url: '/orchestrator/runs' })).statusCode === 200,
      30_000,
      250,
    );
    expect((await waitForStatus(api, inFlight, ['SUCCESS', 'FAILURE', 'CANCELED'], 30_000)).status).toBe(
      'SUCCESS',
    );
    const fresh = await launch('noop_job');
    expect((await waitForStatus(api, fresh, ['SUCCESS', 'FAILURE'], 20_000)).status).toBe('SUCCESS');
    await noRunLeftInFlight();
  }, 120_000);

  it('FerretDB down: 503 naming MongoDB; back: submissions are accepted and applied again', async () => {
    await mongo.kill();
    const down = await waitFor(
      'a 503 while FerretDB is down',
      async () => {
        const res = await api.inject({ method: 'GET', url: '/metadata/collections' });
        return res.statusCode === 503 ? res : undefined;
      },
      20_000,
      200,
    );
    expect(down.json()).toMatchObject({
      code: 'dependency_unavailable',
      detail: expect.stringMatching(/MongoDB/),
    });

    await mongo.start();
    await waitFor(
      'the metadata API to answer again',
      async () => (await api.inject({ method: 'GET', url: '/metadata/collections' })).statusCode === 200,
      30_000,
      250,
    );
    const res = await hub.inject({
      method: 'POST',
      url: '/metadata/json:submit',
      headers: { ...bearer(admin), 'content-type': 'application/json' },
      payload: JSON.stringify({ study_set: [study(4242)] }),
    });
    expect(res.statusCode, res.body).toBe(202);
    const jobId = res.json<{ job_id: string }>().job_id;
    await waitFor(
      'the submission to be applied',
      async () =>
        (await hub.inject({ method: 'GET', url: `/jobs/${jobId}` })).json<{ status: string }>().status ===
        'done',
      30_000,
      250,
    );
    await noRunLeftInFlight();
  }, 120_000);
});
