import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrate, readMigrations } from '../src/infra/postgres/migrator.js';
import { TEST_ENV } from './support/env.js';

describe('PostgreSQL migrations', () => {
  const schema = `t_mig_${randomBytes(4).toString('hex')}`;
  let pool: pg.Pool;
  let dir: string;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: TEST_ENV.DATABASE_URL, max: 6 });
    dir = await mkdtemp(join(tmpdir(), 'migrations-'));
    await writeFile(
      join(dir, '0001_create_things.sql'),
      'CREATE TABLE things (id serial PRIMARY KEY, name text NOT NULL);',
    );
    await writeFile(
      join(dir, '0002_add_colour.sql'),
      "ALTER TABLE things ADD COLUMN colour text NOT NULL DEFAULT 'blue';",
    );
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies each migration exactly once even when several processes migrate at once', async () => {
    const migrations = await readMigrations(dir);
    const results = await Promise.all([1, 2, 3, 4].map(() => migrate(pool, schema, migrations)));
    const applied = results.flatMap((r) => r.applied);
    expect(applied.sort()).toEqual(['0001_create_things', '0002_add_colour']);
    const { rows } = await pool.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
    expect(rows.map((r: { version: number }) => r.version)).toEqual([1, 2]);
    await pool.query(`INSERT INTO "${schema}".things (name) VALUES ('x')`);
    const again = await migrate(pool, schema, migrations);
    expect(again.applied).toEqual([]);
    expect(again.current).toBe(2);
  });

  it('refuses a migration that changed after it was applied', async () => {
    await writeFile(
      join(dir, '0002_add_colour.sql'),
      "ALTER TABLE things ADD COLUMN colour text NOT NULL DEFAULT 'red';",
    );
    await expect(migrate(pool, schema, await readMigrations(dir))).rejects.toThrow(
      /changed after it was applied/,
    );
  });

  it('rolls back a failing migration and names it', async () => {
    await writeFile(
      join(dir, '0002_add_colour.sql'),
      "ALTER TABLE things ADD COLUMN colour text NOT NULL DEFAULT 'blue';",
    );
    await writeFile(join(dir, '0003_broken.sql'), 'CREATE TABLE half (id int); SELECT * FROM no_such_table;');
    await expect(migrate(pool, schema, await readMigrations(dir))).rejects.toThrow(/0003_broken failed/);
    const { rows } = await pool.query(`SELECT to_regclass('"${schema}".half') AS t`);
    expect(rows[0].t).toBeNull();
  });

  it('refuses badly named files', async () => {
    await writeFile(join(dir, 'oops.sql'), 'SELECT 1;');
    await expect(readMigrations(dir)).rejects.toThrow(/NNNN_lower_snake_name/);
  });
});
