/**
 * The embedded adapter: the same `.sql` files on PGlite (PostgreSQL compiled to WebAssembly, in
 * this process), its data in a folder so a restart loses nothing. One connection, so statements
 * run one at a time; one process may open a data folder at a time.
 */
import { PGlite } from '@electric-sql/pglite';
import { silentLogger, type FinishedEvent, type Logger } from '@drover/core';
import { SqlJobStore, migrate, parseFinishedPayload, quoteIdentifier, schemaFor, type MigrateResult, type SqlJobStoreOptions } from '@drover/store';
import { PgliteExecutor, migrationTarget } from './executor.js';

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

  override async listenWorkflows(onWake: (what: 'wake' | 'units') => void): Promise<{ close(): Promise<void> }> {
    const unlisten = await this.db.listen(`${this.#schema}_workflows`, (payload) => onWake(payload === 'units' ? 'units' : 'wake'));
    return { close: () => unlisten() };
  }

  /** The embedded database's one session never reconnects: `connected` is reported once, after listening starts. */
  override async listenFinished(onEvent: (event: FinishedEvent) => void): Promise<{ close(): Promise<void> }> {
    const unlisten = await this.db.listen(`${this.#schema}_finished`, (payload) => {
      const ids = parseFinishedPayload(payload);
      if (ids.length > 0) onEvent({ kind: 'finished', ids });
    });
    queueMicrotask(() => onEvent({ kind: 'connected' }));
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
