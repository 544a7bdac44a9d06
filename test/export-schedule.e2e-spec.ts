import { afterEach, describe, expect, it } from 'vitest';

import { INSTIGATORS_QUEUE, OrchestratorQueues } from '../src/orchestrator/daemon/orchestrator-queues.js';
import { isolatedEnv, startTestHub, type TestHub } from './support/harness.js';
import { adminClient, FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';

describe('EXPORT_METADATA_CRON across restarts', () => {
  const started: TestHub[] = [];
  afterEach(async () => {
    // Only the last hub drops the shared databases; the first kept them for its successor.
    for (const hub of started.splice(0).reverse()) {
      await hub.close();
    }
  });

  const scheduler = (hub: TestHub, pattern: string) =>
    waitFor(
      `the daily_export_metadata scheduler to run at "${pattern}"`,
      async () => {
        const schedulers = await hub.app.get(OrchestratorQueues).listSchedulers(INSTIGATORS_QUEUE);
        return schedulers.find((s) => s.id === 'schedule.daily_export_metadata' && s.pattern === pattern);
      },
      15_000,
      100,
    );

  it('moves the existing BullMQ scheduler to the new cron when the hub restarts with another one', async () => {
    // The same databases, schema and Redis prefix for both hubs: the second is the first, restarted.
    const names = isolatedEnv();
    const shared = {
      MONGO_DB: names.MONGO_DB!,
      PG_SCHEMA: names.PG_SCHEMA!,
      REDIS_PREFIX: names.REDIS_PREFIX!,
    };
    const first = await startTestHub({
      env: { ...FAST_ORCHESTRATOR_ENV, ...shared, EXPORT_METADATA_CRON: '0 3 * * *' },
      keepData: true,
    });
    started.push(first);
    expect(await scheduler(first, '0 3 * * *')).toMatchObject({ tz: 'UTC' });
    await started.pop()!.close();

    const second = await startTestHub({
      env: { ...FAST_ORCHESTRATOR_ENV, ...shared, EXPORT_METADATA_CRON: '30 4 * * 1-5' },
    });
    started.push(second);
    expect(await scheduler(second, '30 4 * * 1-5')).toMatchObject({ tz: 'UTC' });
    const schedulers = await second.app.get(OrchestratorQueues).listSchedulers(INSTIGATORS_QUEUE);
    expect(schedulers.filter((s) => s.id === 'schedule.daily_export_metadata')).toHaveLength(1);
    const api = await adminClient(second);
    const shown = await api.inject({ method: 'GET', url: '/orchestrator/schedules/daily_export_metadata' });
    expect(shown.json()).toMatchObject({ status: 'RUNNING', cron: '30 4 * * 1-5', timezone: 'UTC' });
  }, 60_000);
});
