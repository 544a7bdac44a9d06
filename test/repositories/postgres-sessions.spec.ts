import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/app-config.js';
import { migrate } from '../../src/infra/postgres/migrator.js';
import { PostgresService } from '../../src/infra/postgres/postgres.service.js';
import { LockRepository } from '../../src/orchestrator/storage/lock.repository.js';
import { lockKey } from '../../src/orchestrator/storage/sql.js';
import { isolatedEnv } from '../support/harness.js';

/**
 * Connections held across awaits (a transaction, a session lock) whose server goes away between two
 * queries: the work fails, and the process does not crash on an unhandled 'error' event.
 */
describe('PostgreSQL sessions that lose their connection', () => {
  let postgres: PostgresService;

  async function terminate(pid: number | undefined): Promise<void> {
    expect(pid).toBeTypeOf('number');
    await postgres.query('SELECT pg_terminate_backend($1)', [pid]);
    // Long enough for the client to see its socket close while nobody is querying on it.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  beforeAll(async () => {
    postgres = new PostgresService(loadConfig(isolatedEnv()));
    await postgres.migrate();
  });
  afterAll(async () => {
    await postgres.query(`DROP SCHEMA IF EXISTS "${postgres.schema}" CASCADE`).catch(() => undefined);
    await postgres.onApplicationShutdown();
  });

  it('fails a transaction whose connection was closed between its statements', async () => {
    await expect(
      postgres.transaction(async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await terminate(rows[0]?.pid);
      }),
    ).rejects.toThrow();
    expect((await postgres.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('fails work under a session lock whose connection was closed while it ran', async () => {
    const locks = new LockRepository(postgres);
    const holder = async (): Promise<number | undefined> => {
      const { rows } = await postgres.query<{ pid: number }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
           AND objid = (hashtext($1)::bigint & 4294967295)::oid`,
        [lockKey(postgres.schema, 'session-lost')],
      );
      return rows[0]?.pid;
    };
    await expect(locks.withTryLock('session-lost', async () => terminate(await holder()))).rejects.toThrow();
    expect(await locks.withTryLock('session-lost', () => Promise.resolve('free again'))).toBe('free again');
  });

  it('fails a migration whose connection was closed while it ran, and frees the migration lock', async () => {
    const schema = `${postgres.schema}_m`;
    const slow = [{ version: 1, name: 'slow', sql: 'SELECT pg_sleep(30)', checksum: 'slow' }];
    const running = migrate(postgres.pool, schema, slow);
    running.catch(() => undefined);
    let pid: number | undefined;
    for (let attempt = 0; attempt < 100 && pid === undefined; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const { rows } = await postgres.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'",
      );
      pid = rows[0]?.pid;
    }
    await terminate(pid);
    await expect(running).rejects.toThrow(/0001_slow failed/);
    const quick = [{ version: 1, name: 'quick', sql: 'SELECT 1', checksum: 'quick' }];
    await expect(migrate(postgres.pool, schema, quick)).resolves.toEqual({
      applied: ['0001_quick'],
      current: 1,
    });
    await postgres.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
});
