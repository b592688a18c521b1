/**
 * What every store operation needs from the store around it: the executor its statements run on,
 * the store's idea of now, and the settings fixed when the store was built. One object, so that the
 * operations can live in files of their own and {@link SqlJobStore} only delegates.
 */
import type { RetryPolicy } from '@drover/core';
import type { SqlExecutor } from './executor.js';
import type { Retention } from './options.js';

/** A store's executor and settings, as its operations see them. */
export interface StoreContext {
  readonly db: SqlExecutor;
  /** The injected clock's time, or null to let the database decide. */
  now(): Date | null;
  readonly retention: Retention;
  readonly retryPolicy: RetryPolicy;
  readonly random: () => number;
  /** Spread into validateNewJob: the store's default max retries, when it has one. */
  maxRetriesDefault(): { maxRetries?: number };
  readonly keyRetentionMs: number;
  readonly restartGraceMs: number;
  readonly restartLookbackMs: number;
}
