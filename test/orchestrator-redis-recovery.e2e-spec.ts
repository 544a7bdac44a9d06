import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresService } from '../src/infra/postgres/postgres.service.js';
import { INSTIGATORS_QUEUE, OrchestratorQueues } from '../src/orchestrator/daemon/orchestrator-queues.js';
import { TransportRecovery } from '../src/orchestrator/daemon/transport-recovery.js';
import { ADMIN, bearer, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { study } from './support/metadata.js';
import { FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';
import { ownRedis, type OwnService } from './support/own-services.js';

/** Spare loopback port for this file's own Redis (the shared one is never touched). */
const REDIS_PORT = 31410;

interface SensorState {
  name: string;
  status: string;
  lastTickStart?: string;
  tickHealth: string;
}

/**
 * Redis is transport only: killed and replaced by an empty server while sensors tick and submissions
 * arrive, the same hub process rebuilds its job schedulers, queued and in-flight work from PostgreSQL
 * without a restart, and nothing runs twice.
 */
describe('recovery from a Redis that restarts empty', () => {
  let redis: OwnService;
  let hub: TestHub;
  let admin: string;

  beforeAll(async () => {
    redis = await ownRedis(REDIS_PORT);
    const { ORCH_CODE_LOCATIONS: _fixtures, ...env } = FAST_ORCHESTRATOR_ENV;
    hub = await startTestHub({
      env: {
        ...env,
        REDIS_URL: redis.url,
        ORCH_SENSOR_INTERVALS: JSON.stringify({
          expire_stale_claims: 1,
          process_workflow_job_triggers: 1,
          claim_and_run_metadata_in_jobs: 0.5,
          claim_and_run_apply_changesheet_jobs: 1,
        }),
        // Longer than the test's patience: recovery must come from noticing Redis is back, not the timer.
        ORCH_RECOVERY_INTERVAL_MS: '120000',
      },
    });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
  });
  afterAll(async () => {
    await hub?.close();
    await redis?.stop();
  });

  const sensors = async (): Promise<SensorState[]> => {
    const res = await hub.inject({ method: 'GET', url: '/orchestrator/sensors', headers: bearer(admin) });
    expect(res.statusCode).toBe(200);
    return res.json<{ resources: SensorState[] }>().resources;
  };

  const appliedObjects = async (): Promise<Map<string, string[]>> => {
    const { rows } = await hub.app.get(PostgresService).query<{ object_id: string; statuses: string[] }>(
      `SELECT tags->>'object_id' AS object_id, array_agg(status) AS statuses FROM orch_runs
         WHERE job_name = 'apply_metadata_in' GROUP BY 1`,
    );
    return new Map(rows.map((r) => [r.object_id, r.statuses]));
  };

  it('every running sensor ticks again within 30 s, every accepted submission is applied once', async () => {
    const accepted: string[] = [];
    const acceptedStudies: string[] = [];
    let n = 0;
    let submitting = true;
    const submitter = (async () => {
      while (submitting) {
        n++;
        const document = study(10_000 + n);
        const res = await hub.inject({
          method: 'POST',
          url: '/metadata/json:submit',
          headers: { ...bearer(admin), 'content-type': 'application/json' },
          payload: JSON.stringify({ study_set: [document] }),
        });
        if (res.statusCode === 202) {
          accepted.push(res.json<{ object_id: string }>().object_id);
          acceptedStudies.push(String(document.id));
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    // Working before the fault: a first submission gets applied.
    await waitFor(
      'a first submission to be applied',
      async () => [...(await appliedObjects()).values()].some((s) => s.includes('SUCCESS')),
      30_000,
      200,
    );

    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await redis.start();
    const restartedAt = Date.now();
    // Submissions keep arriving after Redis is back.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    submitting = false;
    await submitter;
    expect(accepted.length).toBeGreaterThan(5);

    const running = (await sensors()).filter((s) => s.status === 'RUNNING').map((s) => s.name);
    expect(running.length).toBeGreaterThanOrEqual(4);
    await waitFor(
      'every RUNNING sensor to tick after Redis came back',
      async () =>
        (await sensors())
          .filter((s) => s.status === 'RUNNING')
          .every((s) => s.lastTickStart !== undefined && Date.parse(s.lastTickStart) > restartedAt),
      30_000,
      250,
    );
    expect(Date.now() - restartedAt).toBeLessThan(33_000);

    const applied = await waitFor(
      `all ${accepted.length} accepted submissions to be applied`,
      async () => {
        const runs = await appliedObjects();
        return accepted.every((id) => runs.get(id)?.includes('SUCCESS')) ? runs : undefined;
      },
      30_000,
      250,
    );
    for (const id of accepted) {
      expect(applied.get(id), `runs of object ${id}`).toEqual(['SUCCESS']);
    }
    for (const studyId of acceptedStudies) {
      const res = await hub.inject({ method: 'GET', url: `/metadata/study_set/${studyId}` });
      expect(res.statusCode, studyId).toBe(200);
    }

    const duplicates = await hub.app.get(PostgresService).query(
      `SELECT instigator_name, run_key FROM orch_runs WHERE run_key IS NOT NULL
         GROUP BY 1, 2 HAVING count(*) > 1`,
    );
    expect(duplicates.rows).toEqual([]);
    expect((await sensors()).filter((s) => s.status === 'RUNNING').map((s) => s.tickHealth)).toEqual(
      running.map(() => 'TICKING'),
    );
    expect(hub.logs.join('')).toMatch(/rebuilt lost Redis state from PostgreSQL/);
  }, 120_000);

  it('reports a RUNNING sensor nothing ticks as LATE, until the periodic recovery rebuilds its scheduler', async () => {
    const name = 'claim_and_run_apply_changesheet_jobs';
    const queues = hub.app.get(OrchestratorQueues);
    await queues.removeScheduler(INSTIGATORS_QUEUE, `sensor.${name}`);
    await hub.app
      .get(PostgresService)
      .query(`UPDATE orch_instigators SET last_tick_start = now() - interval '10 minutes' WHERE name = $1`, [
        name,
      ]);
    const late = (await sensors()).find((s) => s.name === name);
    expect(late).toMatchObject({ status: 'RUNNING', tickHealth: 'LATE' });
    expect((late as unknown as { lastTickAgeSeconds: number }).lastTickAgeSeconds).toBeGreaterThan(590);

    const report = await hub.app.get(TransportRecovery).recover('test');
    expect(report?.schedulers).toContain(`sensor.${name}`);
    const ticking = await waitFor(
      `${name} to tick again`,
      async () => {
        const found = (await sensors()).find((s) => s.name === name);
        return found?.tickHealth === 'TICKING' ? found : undefined;
      },
      15_000,
      200,
    );
    expect(Date.parse(ticking.lastTickStart!)).toBeGreaterThan(Date.now() - 15_000);
  });
});
