import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { migrate, readMigrations, type MigrationResult } from './migrator.js';

/** Owns the process's PostgreSQL pool. Every connection works inside the configured schema. */
@Injectable()
export class PostgresService implements OnApplicationShutdown {
  readonly pool: pg.Pool;
  readonly schema: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.schema = config.postgres.schema;
    this.pool = new pg.Pool({
      connectionString: config.postgres.url,
      max: config.postgres.poolMax,
      options: `-c search_path="${config.postgres.schema}"`,
      connectionTimeoutMillis: 5000,
      application_name: config.service.name,
    });
    // An idle client that loses its server emits here; without a listener it would crash the process.
    this.pool.on('error', () => undefined);
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async migrate(dir?: string): Promise<MigrationResult> {
    return migrate(this.pool, this.schema, await readMigrations(dir));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
