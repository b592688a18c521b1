/**
 * The migrator. Migrations are numbered, append-only `.sql` files (`0001_init.sql`), each applied
 * in its own transaction under an advisory lock and recorded in a ledger with its checksum.
 * Two processes migrating at once serialise on the lock; the second finds the work done.
 * A landed migration that was edited, or a database that knows a migration this code does not,
 * stops the run loudly rather than guessing.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { DroverError, silentLogger, type Logger } from '@drover/core';
import { quoteIdentifier, schemaFor } from './namespace.js';

/** One migration file. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** The migration ledger disagrees with the files: an edited or unknown migration. */
export class MigrationError extends DroverError {
  override name = 'MigrationError';
}

const MIGRATIONS_DIR = new URL('../migrations/', import.meta.url);
const FILE_PATTERN = /^(\d{4})_[a-z0-9_]+\.sql$/;

/** Advisory-lock class for migrations ('DROV' in ASCII); the second key is the schema's hash. */
const LOCK_CLASS = 0x44524f56;

/** Reads the migration files shipped with this package, in version order. */
export function loadMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((name) => {
      const match = FILE_PATTERN.exec(name);
      if (!match?.[1]) throw new MigrationError(`migrations/${name}: the name must look like 0001_what_it_does.sql`);
      const sql = readFileSync(new URL(name, dir), 'utf8');
      return { version: Number(match[1]), name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
  // Versions must ascend, but may skip a number: two changes developed side by side each take
  // their own number, and the one that lands second must not have to renumber. The ledger still
  // records the order applied, and checkLedger refuses a database that got them in another order.
  migrations.forEach((m, i) => {
    const before = migrations[i - 1];
    if (m.version < 1 || (before && before.version === m.version)) {
      throw new MigrationError(`migrations/${m.name}: version ${String(m.version).padStart(4, '0')} ${m.version < 1 ? 'must be 0001 or more' : `is also ${before!.name}'s`}; each migration needs a version of its own`);
    }
  });
  return migrations;
}

/** One database session: what the migrator needs of a `pg` pool client, or of an embedded database. */
export interface MigrationSession {
  /** Without params, `text` may hold several statements (a migration file). */
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
  release(err?: Error): void;
}

/** Where migrations run: a `pg.Pool` fits as it is; an adapter (PGlite) provides its own. */
export interface MigrationTarget {
  connect(): Promise<MigrationSession>;
}

/** One row of a schema's migration ledger. */
export interface LedgerRow {
  version: number;
  name: string;
  checksum: string;
}

/** What a migration run did. */
export interface MigrateResult {
  schema: string;
  /** Names of the migrations this run applied (empty when the schema was up to date). */
  applied: string[];
}

/**
 * Brings a namespace's schema up to date. Safe to run from several processes at once.
 * The migrator's own bookkeeping SQL is inline: it names the schema being created, which no
 * parameter can do, and runs once per start rather than per job.
 */
export async function migrate(
  pool: MigrationTarget,
  options: { namespace?: string; logger?: Logger; migrations?: Migration[] } = {},
): Promise<MigrateResult> {
  const schema = schemaFor(options.namespace);
  const logger = options.logger ?? silentLogger;
  const migrations = options.migrations ?? loadMigrations();
  const client = await pool.connect();
  const applied: string[] = [];
  let broken: Error | undefined;
  try {
    for (;;) {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, schema]);
        // Under the lock, so concurrent first runs cannot race on creating the schema.
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
        await client.query(`SET LOCAL search_path TO ${quoteIdentifier(schema)}`);
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now())`);
        const { rows } = await client.query<LedgerRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version', []);
        checkLedger(schema, rows, migrations);
        const next = migrations[rows.length];
        if (!next) {
          await client.query('COMMIT');
          break;
        }
        await client.query(next.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [next.version, next.name, next.checksum]);
        await client.query('COMMIT');
        applied.push(next.name);
        logger.info({ schema, migration: next.name }, 'applied migration');
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError as Error;
        });
        throw err;
      }
    }
  } finally {
    client.release(broken);
  }
  return { schema, applied };
}

/** Throws a MigrationError when the ledger holds a migration these files do not, or one that was edited. */
export function checkLedger(schema: string, rows: readonly LedgerRow[], migrations: readonly Migration[]): void {
  rows.forEach((row, i) => {
    const file = migrations[i];
    if (file && file.version !== row.version && migrations.some((m) => m.version === row.version)) {
      throw new MigrationError(
        `schema ${schema} has migration ${row.name} but not ${file.name}, which comes before it: a migration was added below one already applied; give it a version above ${String(row.version).padStart(4, '0')}`,
      );
    }
    if (!file || file.version !== row.version) {
      throw new MigrationError(
        `schema ${schema} has migration ${row.name}, which this version of Drover does not ship; run a newer Drover against it`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        `migrations/${file.name} was edited after it was applied to schema ${schema} (checksum ${row.checksum.slice(0, 12)}… in the ledger, ${file.checksum.slice(0, 12)}… on disk); never edit a landed migration, add a new one`,
      );
    }
  });
}
