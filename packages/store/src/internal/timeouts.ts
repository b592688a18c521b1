/**
 * One set of timeouts for every PostgreSQL session Drover opens (the store's pool, the LISTEN
 * session, the election session). Without them a half-open connection (the peer gone without a
 * FIN or RST: a dead switch, a vanished host) freezes whatever waits on it for the kernel's
 * keepalive time, about two hours: claims, completions, the relay, the scheduler and `stop()`.
 */
import type pg from 'pg';

/** Timeouts of a PostgreSQL session, ms. */
export interface PgTimeouts {
  /** Opening a connection (TCP, TLS, startup, authentication), and waiting for a pooled one. */
  connectTimeoutMs: number;
  /** Client side: a round trip with no answer by then is abandoned and its connection destroyed. */
  queryTimeoutMs: number;
  /** Server side (`statement_timeout`): a statement still running by then is cancelled. */
  statementTimeoutMs: number;
  /** Server side (`idle_in_transaction_session_timeout`): a session idle inside a transaction this long is ended, releasing its locks. */
  idleInTransactionTimeoutMs: number;
  /** TCP keepalive: first probe after this much silence, both ends. */
  keepAliveIdleMs: number;
}

/**
 * A connection here opens in milliseconds; 10 s rides out a busy server or a slow TLS handshake,
 * and a host that does not answer fails within it rather than after the kernel's SYN retries (~2 min).
 */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Every runtime statement works on a bounded batch (at most a few thousand rows) and takes
 * milliseconds; 10 s only cuts off one stuck behind a lock or on a sick server, and its caller
 * retries. Migrations run under it too: today's take milliseconds; a migration that rewrites a big
 * table must be run with larger timeouts (DROVER_PG_STATEMENT_TIMEOUT_MS, DROVER_PG_QUERY_TIMEOUT_MS).
 */
const STATEMENT_TIMEOUT_MS = 10_000;
/**
 * Longer than the statement timeout, so that on a healthy connection the server cancels first
 * (a clean error, the connection kept); the client's own timer fires only when the connection is
 * silent, and then it must give up: 15 s is the longest a claim or a completion freezes.
 */
const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 5_000;
/**
 * Drover's own transactions send their statements back to back; a session idle in one for 10 s
 * belongs to a process that stalled or lost its network while holding row locks, which other
 * workers' claims would otherwise wait on until TCP noticed.
 */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
/** Probes after 5 s of silence, every 2 s, 3 misses: a vanished peer is noticed in about 11 s. */
const KEEPALIVE_IDLE_MS = 5_000;
const KEEPALIVE_INTERVAL_S = 2;
const KEEPALIVE_COUNT = 3;

/** The defaults; each is overridable through the store's options (and the CLI's environment). */
export const DEFAULT_PG_TIMEOUTS: Readonly<PgTimeouts> = Object.freeze({
  connectTimeoutMs: CONNECT_TIMEOUT_MS,
  queryTimeoutMs: QUERY_TIMEOUT_MS,
  statementTimeoutMs: STATEMENT_TIMEOUT_MS,
  idleInTransactionTimeoutMs: IDLE_IN_TRANSACTION_TIMEOUT_MS,
  keepAliveIdleMs: KEEPALIVE_IDLE_MS,
});

/** Fills in the defaults and checks each value is a positive whole number of ms. */
export function resolveTimeouts(overrides: Partial<PgTimeouts> = {}): PgTimeouts {
  const timeouts = { ...DEFAULT_PG_TIMEOUTS, ...overrides };
  for (const [name, value] of Object.entries(timeouts)) {
    if (!Number.isInteger(value) || (value) < 1) throw new Error(`timeouts.${name}: must be a whole number of milliseconds, 1 or more (got ${String(value)})`);
  }
  return timeouts;
}

/**
 * The `pg` client settings for a session with these timeouts. `startupOptions` (such as the
 * search_path) is kept, and the server's TCP keepalives are added to it, so that the server too
 * ends the session (and frees its locks) of a client whose host vanished.
 */
export function sessionSettings(timeouts: PgTimeouts, startupOptions = ''): Pick<
  pg.ClientConfig,
  'connectionTimeoutMillis' | 'keepAlive' | 'keepAliveInitialDelayMillis' | 'query_timeout' | 'statement_timeout' | 'idle_in_transaction_session_timeout' | 'options'
> {
  const idleS = Math.max(1, Math.round(timeouts.keepAliveIdleMs / 1000));
  const userTimeoutMs = (idleS + KEEPALIVE_INTERVAL_S * KEEPALIVE_COUNT) * 1000;
  return {
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: timeouts.keepAliveIdleMs,
    query_timeout: timeouts.queryTimeoutMs,
    statement_timeout: timeouts.statementTimeoutMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs,
    options: `${startupOptions} -c tcp_keepalives_idle=${idleS} -c tcp_keepalives_interval=${KEEPALIVE_INTERVAL_S} -c tcp_keepalives_count=${KEEPALIVE_COUNT} -c tcp_user_timeout=${userTimeoutMs}`.trim(),
  };
}
