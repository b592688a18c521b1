/**
 * Where a namespace's schema stands against the migrations this code ships, read without writing:
 * the read-only commands and the workers use it, so that they need no DDL rights and a typo in a
 * namespace creates nothing. Like the migrator's, this bookkeeping SQL is inline: it names the
 * schema being inspected, which no parameter can do.
 */
import { quoteIdentifier, schemaFor } from './namespace.js';
import { checkLedger, loadMigrations, type LedgerRow, type Migration, type MigrationTarget } from './migrate.js';

/** A schema's migration state: `current` is the only one the code can run on. */
export interface SchemaStatus {
  schema: string;
  /** `missing`: no schema or no ledger; `behind`: fewer migrations than this code ships. */
  state: 'missing' | 'behind' | 'current';
  /** Migrations recorded in the ledger. */
  applied: number;
  /** Migrations this code ships. */
  expected: number;
}

/**
 * Reads the namespace's ledger. Throws a MigrationError when the ledger knows a migration this
 * code does not ship, or one that was edited (as the migrator would), and the driver's error when
 * the database cannot be reached.
 */
export async function schemaStatus(pool: MigrationTarget, options: { namespace?: string; migrations?: Migration[] } = {}): Promise<SchemaStatus> {
  const schema = schemaFor(options.namespace);
  const migrations = options.migrations ?? loadMigrations();
  const client = await pool.connect();
  try {
    const { rows: found } = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [`${quoteIdentifier(schema)}.schema_migrations`]);
    if (!found[0]?.present) return { schema, state: 'missing', applied: 0, expected: migrations.length };
    const { rows } = await client.query<LedgerRow>(`SELECT version, name, checksum FROM ${quoteIdentifier(schema)}.schema_migrations ORDER BY version`, []);
    checkLedger(schema, rows, migrations);
    return { schema, state: rows.length < migrations.length ? 'behind' : 'current', applied: rows.length, expected: migrations.length };
  } finally {
    client.release();
  }
}
