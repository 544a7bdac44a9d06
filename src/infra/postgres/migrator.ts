import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Pool } from 'pg';

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationResult {
  readonly applied: readonly string[];
  readonly current: number;
}

const label = (version: number, name: string): string => `${String(version).padStart(4, '0')}_${name}`;

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export async function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) {
      throw new Error(`Migration file ${file} must be named NNNN_lower_snake_name.sql`);
    }
    const sql = await readFile(join(dir, file), 'utf8');
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) {
      throw new Error(`Two migrations share version ${version}`);
    }
    migrations.push({
      version,
      name: match[2] ?? file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  return migrations;
}

/**
 * Applies pending numbered migrations inside `schema`, one transaction each, under an advisory lock so
 * that several processes booting at once apply each migration exactly once. An applied migration whose
 * file has changed since is refused: migrations are append-only.
 */
export async function migrate(
  pool: Pool,
  schema: string,
  migrations: readonly Migration[],
): Promise<MigrationResult> {
  const client = await pool.connect();
  // The pool stops listening for a client's errors while it is checked out: a server lost between two
  // statements would otherwise be an uncaught 'error' event that ends the process.
  const ignoreLoss = (): void => undefined;
  client.on('error', ignoreLoss);
  const lockKey = `runtime-hub:migrate:${schema}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    const done = new Map(rows.map((r) => [r.version, r]));
    for (const [version, row] of done) {
      const file = migrations.find((m) => m.version === version);
      if (file && file.checksum !== row.checksum) {
        throw new Error(
          `Migration ${label(version, row.name)} was changed after it was applied; add a new migration instead`,
        );
      }
    }
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) {
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          migration.checksum,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        // On a lost connection this fails too; the migration's own error is the one to report.
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(
          `Migration ${label(migration.version, migration.name)} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      applied.push(label(migration.version, migration.name));
    }
    const current = Math.max(0, ...migrations.map((m) => m.version), ...done.keys());
    return { applied, current };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    await client.query('RESET search_path').catch(() => undefined);
    client.off('error', ignoreLoss);
    client.release();
  }
}
