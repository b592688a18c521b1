/**
 * The scheduler owns time. It sleeps until the next due job, lease end or trigger fire (asking the
 * store when that is), is woken early by NOTIFY when a sooner job or trigger is scheduled, and
 * polls as the safety net.
 * Every task is safe to run from several schedulers at once (SKIP LOCKED, fenced writes), so
 * there is no leader to elect.
 */
import { ValidationError, Waker, silentLogger, systemClock, type Clock, type Logger, type SchedulerStore, type WakeSource } from '@drover/core';
import { expireLeases } from './tasks/expire-leases.js';
import { fireDueTriggers } from './tasks/fire-triggers.js';
import { foldTriggerOutcomes } from './tasks/fold-trigger-outcomes.js';
import { promoteDueJobs } from './tasks/promote-due.js';
import { trimFinishedJobs } from './tasks/trim-finished.js';
import { trimIdempotencyKeys } from './tasks/trim-idempotency-keys.js';

export interface SchedulerOptions {
  /** The store's scheduler port, and its wake-ups (a NOTIFY when a sooner job or trigger is scheduled). */
  store: SchedulerStore & WakeSource;
  logger?: Logger;
  /** For computing how long to sleep; the store's own clock decides what is due. */
  clock?: Clock;
  /** Longest sleep between runs, ms: bounds the delay when a NOTIFY is lost. */
  pollMs?: number;
  /**
   * How often finished jobs and expired idempotency keys are trimmed, ms, by `clock` (see
   * DEFAULT_TRIM_EVERY_MS). The first pass trims; later passes only once this much time has passed
   * since the last trim that succeeded.
   */
  trimEveryMs?: number;
}

/** A job due at T starts within about a second of T even if its NOTIFY was lost. */
const DEFAULT_POLL_MS = 1_000;
/**
 * Trimming is housekeeping: what it deletes is kept for hours or days (exit statuses, idempotency
 * keys), so a minute late costs nothing, while trimming on every one-second pass would cost two
 * round trips a second that almost always delete nothing.
 */
const DEFAULT_TRIM_EVERY_MS = 60_000;
/** After a failed run (database down), wait before trying again instead of spinning. */
const ERROR_BACKOFF_MS = 1_000;

export class Scheduler {
  readonly #store: SchedulerStore & WakeSource;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #pollMs: number;
  readonly #trimEveryMs: number;
  /** When the last trim succeeded, by `clock`; null before the first. */
  #lastTrim: number | null = null;
  #listener: { close(): Promise<void> } | null = null;
  readonly #waker = new Waker();
  #loop: Promise<void> | null = null;
  #stopping = false;
  /**
   * What this scheduler has done: passes completed; due triggers fired and the jobs they made,
   * trigger outcomes folded; jobs promoted, leases taken back; finished jobs and idempotency keys
   * trimmed, and trims run; failed passes.
   */
  readonly totals = { passes: 0, triggersFired: 0, triggerJobs: 0, folded: 0, promoted: 0, expired: 0, trimmed: 0, keysTrimmed: 0, trims: 0, errors: 0 };

  constructor(options: SchedulerOptions) {
    this.#store = options.store;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'scheduler' });
    this.#clock = options.clock ?? systemClock;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.#trimEveryMs = options.trimEveryMs ?? DEFAULT_TRIM_EVERY_MS;
    if (!Number.isInteger(this.#trimEveryMs) || this.#trimEveryMs < 1) throw new ValidationError('trimEveryMs', 'must be a whole number of milliseconds, 1 or more');
  }

  async start(): Promise<void> {
    this.#listener = await this.#store.listen((what) => {
      if (what === 'scheduled') this.#waker.wake();
    });
    this.#loop = this.#run();
  }

  /** One pass over every task (trimming only when its cadence is due); returns how long to sleep before the next. */
  async runOnce(): Promise<number> {
    // Outcomes first, so a trigger's state is current before it fires again.
    this.totals.folded += await foldTriggerOutcomes(this.#store, this.#logger);
    const fired = await fireDueTriggers(this.#store, this.#logger);
    this.totals.triggersFired += fired.triggers;
    this.totals.triggerJobs += fired.jobs;
    this.totals.promoted += await promoteDueJobs(this.#store, this.#logger);
    this.totals.expired += await expireLeases(this.#store, this.#logger);
    if (this.#msToTrim() === 0) {
      this.totals.trimmed += await trimFinishedJobs(this.#store, this.#logger);
      this.totals.keysTrimmed += await trimIdempotencyKeys(this.#store, this.#logger);
      // Only a trim that succeeded counts: one that failed is tried again on the next pass.
      this.#lastTrim = this.#clock.now().getTime();
      this.totals.trims++;
    }
    const { nextDue, nextLeaseEnd, nextTriggerFire } = await this.#store.nextDue();
    const next = Math.min(nextDue?.getTime() ?? Infinity, nextLeaseEnd?.getTime() ?? Infinity, nextTriggerFire?.getTime() ?? Infinity);
    this.totals.passes++;
    // A poll interval longer than the trim cadence must not stretch the cadence.
    return Math.max(0, Math.min(this.#pollMs, next - this.#clock.now().getTime(), this.#msToTrim()));
  }

  /** How long until the next trim is due, by the clock: 0 when it is. */
  #msToTrim(): number {
    const now = this.#clock.now().getTime();
    // A wall clock set back must not put off trimming until it catches up.
    if (this.#lastTrim === null || now < this.#lastTrim) return 0;
    return Math.max(0, this.#lastTrim + this.#trimEveryMs - now);
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let sleepMs: number;
      try {
        sleepMs = await this.runOnce();
      } catch (err) {
        this.totals.errors++;
        this.#logger.warn({ err: (err as Error).message }, 'scheduler run failed; retrying');
        sleepMs = ERROR_BACKOFF_MS;
      }
      if (!this.#stopping) await this.#waker.sleep(sleepMs);
    }
  }

  /** Finishes the current pass, then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#waker.wake();
    await this.#loop;
    await this.#listener?.close();
  }
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  return new Scheduler(options);
}
