/**
 * The job store's tunables: how long finished jobs and idempotency keys are kept, how a database
 * restart is ridden out, and the options a {@link SqlJobStore} is built with.
 */
import type { Clock, RetryPolicy } from '@drover/core';

/** A day in ms: the unit the retention defaults below are counted in. */
export const DAY_MS = 24 * 60 * 60_000;

/** How long finished jobs keep their exit status before the trim deletes them, per outcome. */
export interface Retention {
  completedMs: number;
  failedMs: number;
  cancelledMs: number;
}

/** A week of completed jobs answers "did it run?"; failures stay a month so a person can look and retry by hand. */
export const DEFAULT_RETENTION: Readonly<Retention> = Object.freeze({ completedMs: 7 * DAY_MS, failedMs: 30 * DAY_MS, cancelledMs: 30 * DAY_MS });

/**
 * How long an idempotency key is honoured: a producer retries an enqueue within seconds or
 * minutes, and a day also covers a batch job re-run the next morning, while the keys of a day's
 * enqueues stay a small table.
 */
export const DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS = DAY_MS;

/**
 * Leases that end around a database restart get this much time after the database's start before
 * the scheduler takes them back. While the database was down, no worker could renew a lease or
 * write an outcome; a worker retries its writes with a backoff capped at 5 s, so 30 s after the
 * start a live worker has written or renewed several times over, and only a dead one's job is
 * still running. It costs a dead worker's job at most this much extra wait, once per restart.
 */
export const DEFAULT_RESTART_GRACE_MS = 30_000;
/**
 * A lease that ended up to this long before the database's start counts as ended in the outage
 * (the restart time is known, the moment the database went away is not): a minute, the worker's
 * default lease, covers the outages that a lease could have ridden out.
 */
export const DEFAULT_RESTART_LOOKBACK_MS = 60_000;

export interface SqlJobStoreOptions {
  /** Time for every time-dependent statement; without one, the database's clock decides. */
  clock?: Clock;
  retention?: Partial<Retention>;
  /** Backoff for jobs whose lease expired (no worker is there to say its function's policy). */
  retryPolicy?: RetryPolicy;
  /** Jitter source; injectable so tests can pin it. */
  random?: () => number;
  /** Max retries for jobs enqueued without one. */
  defaultMaxRetries?: number;
  /** Called by close(), after which the store must not be used. */
  onClose?: () => Promise<void>;
  /**
   * Coalesce concurrent insert() calls into multi-row statements (each call still resolves only
   * once its own row has committed). For a store on a pool; a store on one session gains nothing.
   */
  batchInserts?: boolean;
  /** How long an idempotency key is honoured, ms; then the scheduler's trim deletes it. Defaults to a day. */
  idempotencyKeyRetentionMs?: number;
  /** After the database starts, how long leases that ended around the outage are left alone, ms (see {@link DEFAULT_RESTART_GRACE_MS}). */
  restartGraceMs?: number;
  /** How long before the database's start a lease end counts as in the outage, ms (see {@link DEFAULT_RESTART_LOOKBACK_MS}). */
  restartLookbackMs?: number;
}
