/**
 * The seam between the store's logic and a database driver: run a statement, run a transaction.
 * The `pg` executors are here; the embedded one is `@drover/store-pglite`'s `PgliteExecutor`, so
 * that both run the very same `.sql` files.
 */
import type pg from 'pg';
import type { Statement } from './statements.js';

/** Runs the store's statements. */
export interface SqlExecutor {
  query<R>(statement: Statement, params: readonly unknown[]): Promise<R[]>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

/** Runs statements on one checked-out client (inside a transaction, or a caller's own client). */
export class PgClientExecutor implements SqlExecutor {
  constructor(private readonly client: pg.ClientBase) {}

  async query<R>(statement: Statement, params: readonly unknown[]): Promise<R[]> {
    const result = await this.client.query({ name: statement.name, text: statement.text, values: params as unknown[] });
    return result.rows as R[];
  }

  /**
   * Atomic on a client the caller holds: a savepoint inside the caller's transaction (rolled back
   * alone on failure, leaving the caller's transaction usable), or a transaction of its own when
   * the client is not in one.
   */
  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let savepoint = true;
    try {
      await this.client.query('SAVEPOINT drover_atomic');
    } catch (err) {
      // 25P01 no_active_sql_transaction: SAVEPOINT outside a transaction block.
      if ((err as { code?: string }).code !== '25P01') throw err;
      savepoint = false;
      await this.client.query('BEGIN');
    }
    try {
      const value = await fn(this);
      await this.client.query(savepoint ? 'RELEASE SAVEPOINT drover_atomic' : 'COMMIT');
      return value;
    } catch (err) {
      await this.client.query(savepoint ? 'ROLLBACK TO SAVEPOINT drover_atomic' : 'ROLLBACK');
      throw err;
    }
  }
}

/** Runs statements on a pool; prepared statements are cached per pooled connection by `pg`. */
export class PgPoolExecutor implements SqlExecutor {
  constructor(private readonly pool: pg.Pool) {}

  async query<R>(statement: Statement, params: readonly unknown[]): Promise<R[]> {
    const result = await this.pool.query({ name: statement.name, text: statement.text, values: params as unknown[] });
    return result.rows as R[];
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no listener of the pool's: a connection that dies under it (a
    // restart, a reset) would emit an unhandled 'error' and kill the process. The statement in
    // flight fails with the same error, so this one only marks the client as not to be reused.
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const value = await fn(new PgClientExecutor(client));
      await client.query('COMMIT');
      return value;
    } catch (err) {
      if (broken || isConnectionLost(err)) {
        // A dead or timed-out connection: a ROLLBACK would wait out another timeout for nothing
        // (the server rolls back when the session ends), and the client must not be reused.
        broken ??= err as Error;
        throw err;
      }
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable; destroy it instead of returning it to the pool.
        broken = rollbackError as Error;
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken ?? false);
    }
  }
}

/**
 * True when the error says the connection itself failed (ended, reset, or a round trip abandoned
 * by the client's query timeout), as opposed to a statement the server refused on a healthy one.
 */
export function isConnectionLost(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(ECONNRESET|EPIPE|ETIMEDOUT|ECONNREFUSED)$/.test(code)) return true;
  return /Connection terminated|Query read timeout|timeout exceeded when trying to connect|connection timeout/i.test(err.message);
}
