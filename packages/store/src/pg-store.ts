/**
 * The PostgreSQL adapter: a `pg` pool whose connections all use the namespace's schema, and the
 * job store on top of it.
 */
import pg from 'pg';
import { silentLogger, type FinishedEvent, type LeadOptions, type Leadership, type Logger } from '@drover/core';
import { parseFinishedPayload } from './internal/callers.js';
import { PgClientExecutor, PgPoolExecutor } from './internal/executor.js';
import { holdLeadership } from './internal/leadership.js';
import { listenForever } from './internal/listener.js';
import { resolveTimeouts, sessionSettings, type PgTimeouts } from './internal/timeouts.js';
import { SQL } from './internal/statements.js';
import { quoteIdentifier, schemaFor } from './namespace.js';
import { SqlJobStore, type SqlJobStoreOptions } from './sql-job-store.js';

export interface PgPoolOptions {
  /** A `postgres://` URL. */
  connectionString: string;
  /** Selects the schema (through search_path). Defaults to `drover`. */
  namespace?: string;
  /** Pool size. The default of 10 matches `pg`'s and sits well under PostgreSQL's default max_connections (100). */
  max?: number;
  /** Shown in pg_stat_activity, so an operator can tell Drover's connections apart. */
  applicationName?: string;
  /** Connection, round-trip, statement, idle-in-transaction and keepalive timeouts; see {@link DEFAULT_PG_TIMEOUTS}. */
  timeouts?: Partial<PgTimeouts>;
}

/**
 * Creates a pool whose every connection resolves unqualified names in the namespace's schema.
 * search_path is set in the startup packet, so there is no window in which a fresh connection
 * points elsewhere.
 */
export function createPgPool(options: PgPoolOptions, logger: Logger = silentLogger): pg.Pool {
  const schema = schemaFor(options.namespace);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'drover',
    // Every connection, and the LISTEN and election sessions made from these options, gets the
    // timeouts. A round trip abandoned by query_timeout fails its query, and pg-pool destroys a
    // client released with an error, so a timed-out connection never goes back to the pool.
    // Quoted: a namespace may be a keyword (`user`), which search_path would otherwise misread.
    ...sessionSettings(resolveTimeouts(options.timeouts), `-c search_path=${quoteIdentifier(schema)}`),
  });
  // An idle connection that dies (database restart, terminated backend) is reported here; without a
  // listener Node treats it as an unhandled 'error' event and kills the process. The pool has
  // already discarded the connection, and the next query opens a fresh one.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle database connection lost; the pool will reconnect'));
  return pool;
}

/** A follower takes over within a second of a leader's death, for one cheap query a second. */
const DEFAULT_LEAD_RETRY_MS = 1_000;
/**
 * The LISTEN session pings this often: a silent session (a cut network acknowledges nothing, and
 * a proxy or NAT in between may answer keepalives itself) is then noticed within a ping and a
 * query timeout, and reconnected, instead of waiting without notifications for hours.
 */
const DEFAULT_LISTEN_PING_MS = 5_000;

/** Options of a {@link PgJobStore} beyond the SQL store's. */
export interface PgJobStoreOptions extends SqlJobStoreOptions {
  /** Close the pool with the store. */
  ownsPool?: boolean;
  namespace?: string;
  logger?: Logger;
  /** How often the LISTEN session checks it is alive, ms. */
  listenPingMs?: number;
}

/** A job store on PostgreSQL. */
export class PgJobStore extends SqlJobStore {
  /** The pool the store runs on; its lifetime is the store's when the store created it. */
  readonly pool: pg.Pool;

  readonly #schema: string;
  readonly #logger: Logger;
  readonly #listenPingMs: number;

  constructor(pool: pg.Pool, options: PgJobStoreOptions = {}) {
    const { ownsPool = false, namespace, logger, listenPingMs, ...rest } = options;
    super(new PgPoolExecutor(pool), { batchInserts: true, ...rest, onClose: ownsPool ? () => pool.end() : undefined });
    this.pool = pool;
    this.#schema = schemaFor(namespace);
    this.#logger = logger ?? silentLogger;
    this.#listenPingMs = listenPingMs ?? DEFAULT_LISTEN_PING_MS;
  }

  /** Listens on the namespace's channel (`<schema>_jobs`) with a connection of its own. */
  override async listen(onWake: (what: 'ready' | 'scheduled') => void): Promise<{ close(): Promise<void> }> {
    // The pool's options carry the connection string and the search_path startup option.
    return listenForever(this.pool.options, `${this.#schema}_jobs`, (payload) => {
      if (payload === 'scheduled') onWake('scheduled');
      else if (payload === 'ready') onWake('ready');
      else {
        onWake('ready');
        onWake('scheduled');
      }
    }, this.#logger, { pingMs: this.#listenPingMs });
  }

  /**
   * Listens on the namespace's `<schema>_finished` channel with a connection of its own. Each
   * (re)connect is reported as `connected`: announcements sent while away are lost.
   */
  override async listenFinished(onEvent: (event: FinishedEvent) => void): Promise<{ close(): Promise<void> }> {
    return listenForever(this.pool.options, `${this.#schema}_finished`, (payload) => {
      if (payload === 'reconnected') onEvent({ kind: 'connected' });
      else {
        const ids = parseFinishedPayload(payload);
        if (ids.length > 0) onEvent({ kind: 'finished', ids });
      }
    }, this.#logger, { pingMs: this.#listenPingMs });
  }

  /** Elects among processes with a session advisory lock on a connection of its own (see internal/leadership.ts). */
  /** Listens on the namespace's `<schema>_workflows` channel (wake-ups appended, units saved) with a connection of its own. */
  override async listenWorkflows(onWake: (what: 'wake' | 'units') => void): Promise<{ close(): Promise<void> }> {
    return listenForever(this.pool.options, `${this.#schema}_workflows`, (payload) => onWake(payload === 'units' ? 'units' : 'wake'), this.#logger, { pingMs: this.#listenPingMs });
  }

  override async lead(name: string, options: LeadOptions = {}): Promise<Leadership> {
    return holdLeadership(this.pool.options, name, { retryMs: options.retryMs ?? DEFAULT_LEAD_RETRY_MS, logger: this.#logger, ...(options.onChange ? { onChange: options.onChange } : {}) });
  }

  /**
   * The store's operations on a client the caller holds, typically inside the caller's own
   * transaction: a job enqueued there commits or rolls back with the caller's data. The client's
   * search_path must select the namespace's schema (see {@link withClient} when it does not).
   */
  onClient(client: pg.ClientBase): SqlJobStore {
    return this.withExecutor(new PgClientExecutor(client));
  }

  /**
   * Runs `fn` with the store on a caller's client whose search_path may point anywhere: it is set
   * to the namespace's schema for the duration and restored afterwards. Inside a transaction that
   * fails, the rollback restores it as well.
   */
  async withClient<T>(client: pg.ClientBase, fn: (store: SqlJobStore) => Promise<T>): Promise<T> {
    const executor = new PgClientExecutor(client);
    const [row] = await executor.query<{ previous: string }>(SQL.setSearchPath, [quoteIdentifier(this.#schema)]);
    try {
      return await fn(this.withExecutor(executor));
    } finally {
      // In an aborted transaction this fails, and the rollback restores the setting instead.
      await executor.query(SQL.setSearchPath, [row!.previous]).catch(() => undefined);
    }
  }
}

/** Creates a pool for the namespace and a store that closes it. */
export function createPgStore(options: PgPoolOptions & Omit<PgJobStoreOptions, 'ownsPool'>): PgJobStore {
  const { connectionString, namespace, max, applicationName, timeouts, ...storeOptions } = options;
  const pool = createPgPool({ connectionString, ...(namespace ? { namespace } : {}), ...(max ? { max } : {}), ...(applicationName ? { applicationName } : {}), ...(timeouts ? { timeouts } : {}) }, storeOptions.logger);
  return new PgJobStore(pool, { ...storeOptions, ...(namespace ? { namespace } : {}), ownsPool: true });
}
