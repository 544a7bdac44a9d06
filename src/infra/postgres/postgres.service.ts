import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { dependencyUnavailable } from '../../common/errors/domain-errors.js';
import { migrate, readMigrations, type MigrationResult } from './migrator.js';

/** PostgreSQL error classes meaning "the server is not there" rather than "the statement is wrong". */
const UNAVAILABLE = /^(08|57P)/;
const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

/** The same error, or a 503 naming PostgreSQL when the server could not be reached. */
function unavailable(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? `${String(code)} ${error.message}` : '';
  return (typeof code === 'string' && UNAVAILABLE.test(code)) || UNREACHABLE.test(text)
    ? dependencyUnavailable('PostgreSQL', error)
    : error;
}

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
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw unavailable(error);
    }
  }

  /**
   * Like {@link query}, as the prepared statement `name`: each connection parses and plans it once (then
   * PostgreSQL may keep a generic plan), and every later execution sends only its parameters. For the
   * statements a busy process repeats many times a second. A statement's text must never change under
   * its name, and its result columns must be listed rather than `*`: a column added to a table while the
   * process runs would otherwise change the cached result type, which PostgreSQL refuses.
   */
  async queryPrepared<R extends pg.QueryResultRow = pg.QueryResultRow>(
    name: string,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>({ name, text, values });
    } catch (error) {
      throw unavailable(error);
    }
  }

  /**
   * A client of the pool for a transaction or a session. The pool stops listening for a client's errors
   * while it is checked out, so a connection lost between two of its queries would be an uncaught
   * exception that ends the process; the loss still fails the client's next query.
   */
  async connect(): Promise<pg.PoolClient> {
    const client = await this.pool.connect().catch((error: unknown) => {
      throw unavailable(error);
    });
    if (!this.guarded.has(client)) {
      this.guarded.add(client);
      client.on('error', () => undefined);
    }
    return client;
  }

  private readonly guarded = new WeakSet<pg.PoolClient>();

  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw unavailable(error);
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
