import { Injectable } from '@nestjs/common';

import { PostgresService } from '../../infra/postgres/postgres.service.js';
import { lockKey } from './sql.js';

/** Session-level PostgreSQL advisory locks for singletons (reconciler, monitor) across processes. */
@Injectable()
export class LockRepository {
  constructor(private readonly postgres: PostgresService) {}

  /** Runs `work` only if no other process holds `name`; returns undefined when it was held. */
  async withTryLock<T>(name: string, work: () => Promise<T>): Promise<T | undefined> {
    return this.lock(name, false, work);
  }

  /** Runs `work` once `name` is free, waiting for it. */
  async withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.lock(name, true, work) as Promise<T>;
  }

  private async lock<T>(name: string, wait: boolean, work: () => Promise<T>): Promise<T | undefined> {
    const key = lockKey(this.postgres.schema, name);
    const client = await this.postgres.connect();
    try {
      if (wait) {
        await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
      } else {
        const { rows } = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
          [key],
        );
        if (!rows[0]?.ok) {
          return undefined;
        }
      }
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      }
    } finally {
      client.release();
    }
  }
}
