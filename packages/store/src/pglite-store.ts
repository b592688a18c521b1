/**
 * The embedded adapter: the same `.sql` files on PGlite (PostgreSQL compiled to WebAssembly, in
 * this process), its data in a folder so a restart loses nothing. One connection, so statements
 * run one at a time; one process may open a data folder at a time.
 */
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { silentLogger, type Logger } from '@drover/core';
import type { SqlExecutor } from './internal/executor.js';
import type { Statement } from './internal/statements.js';
import { migrate, type MigrateResult, type MigrationSession } from './migrate.js';
import { quoteIdentifier, schemaFor } from './namespace.js';
import { SqlJobStore, type SqlJobStoreOptions } from './sql-job-store.js';

type Queryable = Pick<PGlite, 'query' | 'exec'> | Transaction;

class PgliteExecutor implements SqlExecutor {
  constructor(
    private readonly db: PGlite,
    private readonly tx: Transaction | null = null,
  ) {}

  async query<R>(statement: Statement, params: readonly unknown[]): Promise<R[]> {
    const target: Queryable = this.tx ?? this.db;
    return (await target.query<R>(statement.text, params as unknown[])).rows;
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // Already in one: PGlite has a single session, and no store operation needs nesting.
    if (this.tx) return fn(this);
    return this.db.transaction((tx) => fn(new PgliteExecutor(this.db, tx)));
  }
}

/** The migrator's view of PGlite: one session; a statement without params may be a whole file. */
function migrationTarget(db: PGlite) {
  const session: MigrationSession = {
    async query<R>(text: string, params?: unknown[]) {
      if (params) return { rows: (await db.query<R>(text, params)).rows };
      const results = await db.exec(text);
      return { rows: (results.at(-1)?.rows ?? []) as R[] };
    },
    release: () => undefined,
  };
  return { connect: async () => session };
}

export interface PgliteStoreOptions extends SqlJobStoreOptions {
  /** A folder for the data; omitted, the database lives in memory and dies with the process. */
  dataDir?: string;
  namespace?: string;
  logger?: Logger;
}

/** A job store on an embedded PGlite database. */
export class PgliteJobStore extends SqlJobStore {
  readonly db: PGlite;
  readonly #schema: string;
  readonly #logger: Logger;

  constructor(db: PGlite, options: Omit<PgliteStoreOptions, 'dataDir'> & { ownsDb?: boolean } = {}) {
    const { ownsDb = false, namespace, logger, ...rest } = options;
    // No restart grace: an embedded database restarts only with its one process, whose leases
    // recoverAfterRestart takes back at once; its start time says nothing about an outage.
    super(new PgliteExecutor(db), { restartGraceMs: 0, ...rest, ...(ownsDb ? { onClose: () => db.close() } : {}) });
    this.db = db;
    this.#schema = schemaFor(namespace);
    this.#logger = logger ?? silentLogger;
  }

  /** Applies the migrations to the namespace's schema. */
  migrate(): Promise<MigrateResult> {
    return migrate(migrationTarget(this.db), { namespace: this.#schema, logger: this.#logger });
  }

  override async listen(onWake: (what: 'ready' | 'scheduled') => void): Promise<{ close(): Promise<void> }> {
    const unlisten = await this.db.listen(`${this.#schema}_jobs`, (payload) => onWake(payload === 'scheduled' ? 'scheduled' : 'ready'));
    // As the PostgreSQL listener does on (re)connecting: whatever happened before now, look once.
    queueMicrotask(() => {
      onWake('ready');
      onWake('scheduled');
    });
    return { close: () => unlisten() };
  }

  /**
   * After the embedded process stopped, nothing it held is still running: jobs it had dispatched
   * were in an in-memory broker that is gone, and jobs it was running have no worker. Gives the
   * first back to ready and takes the second back as failed attempts (`lease expired`) now, instead
   * of waiting out their leases. Only for a store that no other process uses.
   */
  async recoverAfterRestart(): Promise<{ requeued: number; takenBack: number }> {
    const requeued = await this.requeueDispatched();
    const takenBack = (await this.expireLeases(100_000, { all: true })).filter((r) => r.accepted).length;
    return { requeued, takenBack };
  }
}

/** Opens (or creates) an embedded database, selects the namespace's schema and migrates it. */
export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<PgliteJobStore> {
  const { dataDir, ...rest } = options;
  const schema = schemaFor(options.namespace);
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  // One session for everything: its search_path is the namespace's schema from here on.
  await db.exec(`SET search_path TO ${quoteIdentifier(schema)}`);
  const store = new PgliteJobStore(db, { ...rest, ownsDb: true });
  await store.migrate();
  return store;
}
