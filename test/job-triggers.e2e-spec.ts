import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, bearer, passwordToken } from './support/auth.js';
import { registerUrlBlob } from './support/drs.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';
import { exited, freePort, spawnHub, waitForHttp } from './support/process.js';

const REGISTRY = fileURLToPath(new URL('./fixtures/registry.test.yaml', import.meta.url));

describe('process_workflow_job_triggers with two worker processes', () => {
  let hub: TestHub;
  let worker: ChildProcess | undefined;
  let admin: string;

  beforeAll(async () => {
    const { ORCH_CODE_LOCATIONS: _fixtures, ...fast } = FAST_ORCHESTRATOR_ENV;
    const env = {
      ...fast,
      REGISTRY_PATH: REGISTRY,
      ORCH_SENSOR_INTERVALS: JSON.stringify({ process_workflow_job_triggers: 0.3 }),
    };
    hub = await startTestHub({ env });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    const port = await freePort();
    const shared = {
      ...env,
      NODE_ENV: 'test',
      LOG_PRETTY: 'false',
      LOG_LEVEL: 'warn',
      MONGO_URL: hub.config.mongo.url,
      MONGO_DB: hub.config.mongo.database,
      DATABASE_URL: hub.config.postgres.url,
      PG_SCHEMA: hub.config.postgres.schema,
      REDIS_URL: hub.config.redis.url,
      REDIS_PREFIX: hub.config.redis.prefix,
      BLOB_DIR: hub.config.blobs.dir,
    };
    worker = spawnHub('src/main.ts', [], { ...shared, APP_ROLE: 'worker', PORT: String(port) });
    await waitForHttp(`http://127.0.0.1:${port}/health`);
  }, 60_000);
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await exited(worker);
    }
    await hub.close();
  });

  it('creates exactly one job per typed object', async () => {
    const objectIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const object = await registerUrlBlob(hub, admin, { name: `trigger-${i}.bin` });
      const typed = await hub.inject({
        method: 'PUT',
        url: `/objects/${object.id}/types`,
        headers: bearer(admin),
        payload: ['test'],
      });
      expect(typed.statusCode, typed.body).toBe(200);
      objectIds.push(object.id);
    }
    const filter = encodeURIComponent(JSON.stringify({ 'workflow.id': 'test' }));
    const jobs = await waitFor(
      'a job for every typed object',
      async () => {
        const res = (
          await hub.inject({ method: 'GET', url: `/jobs?filter=${filter}&max_page_size=100` })
        ).json<{
          resources: { config: { object_id?: string } }[];
        }>();
        return res.resources.length >= objectIds.length ? res.resources : undefined;
      },
      30_000,
      250,
    );
    // Let both daemons tick a few more times: nothing new may appear.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const again = (
      await hub.inject({ method: 'GET', url: `/jobs?filter=${filter}&max_page_size=100` })
    ).json<{
      resources: { config: { object_id?: string } }[];
    }>();
    expect(again.resources).toHaveLength(objectIds.length);
    expect(new Set(jobs.map((j) => j.config.object_id))).toEqual(new Set(objectIds));
  }, 60_000);
});
