/**
 * @drover/store — Drover's job store on PostgreSQL: numbered migrations, and every operation on a
 * job as one statement (or one transaction) from a `.sql` file beside the code. The embedded
 * PGlite adapter is `@drover/store-pglite`, built on the exports marked "for adapters" here.
 *
 * @example
 * ```ts
 * import { createPgStore, migrate } from '@drover/store';
 *
 * const store = createPgStore({ connectionString: 'postgres://postgres@127.0.0.1/postgres', namespace: 'drover' });
 * await migrate(store.pool, { namespace: 'drover' });
 * const { id } = await store.insert({ funcname: 'email.send', arg: { to: 'a@example.com' } });
 * const [job] = await store.claim([id], { leaseMs: 30_000 });
 * await store.complete({ id, grabToken: job!.grabToken, result: { sent: true } });
 * await store.close();
 * ```
 */
export { DEFAULT_NAMESPACE, quoteIdentifier, schemaFor } from './namespace.js';
export { MigrationError, loadMigrations, migrate, type MigrateResult, type Migration, type MigrationSession, type MigrationTarget } from './migrate.js';
export { schemaStatus, type SchemaStatus } from './schema-status.js';
export { DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS, DEFAULT_RESTART_GRACE_MS, DEFAULT_RESTART_LOOKBACK_MS, DEFAULT_RETENTION, SqlJobStore, type Retention, type SqlJobStoreOptions } from './sql-job-store.js';
export { SqlClientStore } from './sql-client-store.js';
export { SqlWorkflowStore } from './sql-workflow-store.js';
export { PgJobStore, createPgPool, createPgStore, type PgJobStoreOptions, type PgPoolOptions } from './pg-store.js';
export { DEFAULT_PG_TIMEOUTS, type PgTimeouts } from './internal/timeouts.js';
/** For adapters (`@drover/store-pglite`): the seam a database driver implements to run the store's statements. */
export type { SqlExecutor } from './internal/executor.js';
/** For adapters: reads a `<schema>_finished` notification's payload (awaited job ids). */
export { parseFinishedPayload } from './internal/callers.js';
/** For adapters: a statement loaded from `sql/`, as an executor receives it. */
export type { Statement } from './internal/statements.js';
