/**
 * No role port: the migrator (its ledger, checksums, concurrent migrations). PostgreSQL only.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type pg from 'pg';
import { testNamespaceName } from '@drover/testing';
import { MigrationError, createPgPool, loadMigrations, migrate } from '../src/index.js';

const pools: pg.Pool[] = [];
const schemas: string[] = [];
afterAll(async () => {
  const admin = pools[0];
  for (const schema of schemas) await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await Promise.all(pools.map((p) => p.end()));
});

function freshPool(namespace: string): pg.Pool {
  const pool = createPgPool({ connectionString: inject('droverServices').databaseUrl, namespace, max: 2 });
  pools.push(pool);
  return pool;
}

describe('migrate', () => {
  it('applies every migration once when several processes migrate at the same time', async () => {
    const namespace = testNamespaceName();
    schemas.push(namespace);
    // Separate pools stand in for separate processes: each has its own connections.
    const runs = await Promise.all(Array.from({ length: 4 }, () => migrate(freshPool(namespace), { namespace })));
    const expected = loadMigrations().map((m) => m.name);
    expect(runs.flatMap((r) => r.applied).sort()).toEqual(expected.sort());
    const { rows } = await pools[0]!.query<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name ORDER BY name');
    expect(rows).toEqual(expected.map((name) => ({ name, n: 1 })));
    // The schema is usable: the tables exist once, in this namespace.
    const tables = await pools[0]!.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('jobs', 'finished_jobs', 'job_failures')",
      [namespace],
    );
    expect(tables.rows[0]!.n).toBe(3);
  });

  it('gives @webhook triggers stored before migration 0010 an id of the store\'s form, each its own', async () => {
    const namespace = testNamespaceName();
    schemas.push(namespace);
    const pool = freshPool(namespace);
    await migrate(pool, { namespace, migrations: loadMigrations().filter((m) => m.version < 10) });
    const insert = "INSERT INTO triggers (spec, type, funcname, max_retries, created_at, updated_at) VALUES ($1, $2, 'f', 3, now(), now())";
    for (const [spec, type] of [['@webhook', 'webhook'], ['@webhook', 'webhook'], ['@client', 'client']]) await pool.query(insert, [spec, type]);
    await migrate(pool, { namespace });
    const { rows } = await pool.query<{ type: string; webhook_id: string | null }>('SELECT type, webhook_id FROM triggers ORDER BY id');
    expect(rows.map((r) => r.type)).toEqual(['webhook', 'webhook', 'client']);
    expect(rows[0]!.webhook_id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(rows[1]!.webhook_id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(rows[0]!.webhook_id).not.toBe(rows[1]!.webhook_id);
    expect(rows[2]!.webhook_id).toBeNull();
  });

  it('does nothing on an up-to-date schema', async () => {
    const namespace = testNamespaceName();
    schemas.push(namespace);
    const pool = freshPool(namespace);
    await migrate(pool, { namespace });
    expect((await migrate(pool, { namespace })).applied).toEqual([]);
  });

  it('fails loudly when an applied migration was edited, and applies nothing', async () => {
    const namespace = testNamespaceName();
    schemas.push(namespace);
    const pool = freshPool(namespace);
    await migrate(pool, { namespace });
    const [first, ...rest] = loadMigrations();
    const edited = { ...first!, sql: `${first!.sql}\n-- edited`, checksum: 'f'.repeat(64) };
    await expect(migrate(pool, { namespace, migrations: [edited, ...rest] })).rejects.toThrow(MigrationError);
    await expect(migrate(pool, { namespace, migrations: [edited, ...rest] })).rejects.toThrow(/0001_init\.sql was edited after it was applied/);
  });

  it('refuses a database that has a migration this code does not know', async () => {
    const namespace = testNamespaceName();
    schemas.push(namespace);
    const pool = freshPool(namespace);
    await migrate(pool, { namespace });
    await pool.query("INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, '9999_future.sql', 'x')");
    await expect(migrate(pool, { namespace })).rejects.toThrow(/9999_future\.sql, which this version of Drover does not ship/);
  });

  it('rolls a failing migration back entirely', async () => {
    const namespace = testNamespaceName();
    schemas.push(namespace);
    const pool = freshPool(namespace);
    const broken = { version: 1, name: '0001_broken.sql', sql: 'CREATE TABLE half_done (x int); SELECT 1/0;', checksum: 'b'.repeat(64) };
    await expect(migrate(pool, { namespace, migrations: [broken] })).rejects.toThrow(/division by zero/);
    // The failed transaction also created the schema and the ledger: none of it remains.
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [namespace]);
    expect(rows[0]?.n).toBe(0);
    // A correct migration afterwards applies cleanly.
    expect((await migrate(pool, { namespace })).applied).toEqual(loadMigrations().map((m) => m.name));
  });

  it('accepts versions that skip a number, and refuses one added below a version already applied', async () => {
    const namespace = testNamespaceName();
    schemas.push(namespace);
    const pool = freshPool(namespace);
    const m = (version: number, name: string) => ({ version, name, sql: `CREATE TABLE t${version} (x int);`, checksum: String(version).repeat(64).slice(0, 64) });
    // Two changes made side by side took 0002 and 0003; the one with 0003 landed first.
    expect((await migrate(pool, { namespace, migrations: [m(1, '0001_a.sql'), m(3, '0003_c.sql')] })).applied).toEqual(['0001_a.sql', '0003_c.sql']);
    const late = [m(1, '0001_a.sql'), m(2, '0002_b.sql'), m(3, '0003_c.sql')];
    await expect(migrate(pool, { namespace, migrations: late })).rejects.toThrow(/has migration 0003_c\.sql but not 0002_b\.sql, which comes before it/);
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 't2'", [namespace]);
    expect(rows[0]!.n).toBe(0);
  });
});

describe('loadMigrations', () => {
  const dirWith = (...names: string[]): URL => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-migrations-'));
    for (const name of names) writeFileSync(join(dir, name), 'SELECT 1;');
    return pathToFileURL(`${dir}/`);
  };

  it('reads versions in order, gaps allowed', () => {
    expect(loadMigrations(dirWith('0003_c.sql', '0001_a.sql')).map((m) => m.version)).toEqual([1, 3]);
  });

  it('refuses two migrations with one version, naming both', () => {
    expect(() => loadMigrations(dirWith('0001_a.sql', '0002_b.sql', '0002_other.sql'))).toThrow(/0002_(b|other)\.sql: version 0002 is also 0002_(b|other)\.sql's/);
  });
});
