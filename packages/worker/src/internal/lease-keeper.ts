/**
 * Lease renewal and self-fencing for every job a worker holds, on one timer.
 *
 * Each job's lease deadline is tracked on the worker's own monotonic clock, from when its claim
 * or its last successful renewal was *sent*: PostgreSQL set `grabbed_until` from a later instant,
 * so network delay can only make the worker think its lease ends sooner, never later. One timer
 * wakes at the next thing due (a renewal or a deadline); a pass renews every lease due now or
 * soon in one `heartbeat` statement per lease length, so a long job adds no timers and a hundred
 * running jobs cost one statement per renewal period, not a hundred.
 *
 * When a deadline passes without a successful renewal (the worker is cut off from PostgreSQL, or
 * the database is away longer than the lease), the holder is told at once. A job whose handler
 * still runs is fenced: the handler is aborted (stopping its side effects, freeing the slot) and
 * nothing is written, since the scheduler may be handing the job to another worker. A job whose
 * outcome is already decided is not: its write goes on (see run-job), fenced by the grab token in
 * PostgreSQL, because the scheduler leaves leases that ended in an outage alone for a grace period
 * after the database starts. Leases are kept until the outcome is written, not only while the
 * handler runs: a job that finished while the database was away must not be taken back before its
 * outcome can be written.
 */
import { performance } from 'node:perf_hooks';
import type { Grab, Logger, WorkerStore } from '@drover/core';

/** Why a job's lease ended for this worker. `refused`: PostgreSQL says the grab token no longer holds (taken back or cancelled). */
export type LeaseEnd = { kind: 'refused' } | { kind: 'expired'; lateMs: number };

interface Entry {
  grab: Grab;
  leaseMs: number;
  /** Monotonic time after which PostgreSQL may have taken the job back. */
  deadline: number;
  /** Monotonic time the next renewal is due. */
  renewAt: number;
  inFlight: boolean;
  /** Returns whether the holder fenced the job (stopped it and writes nothing); counted in `fenced`. */
  onEnd: (end: LeaseEnd) => boolean;
}

/** What the keeper has done; tests and logs read it. */
export interface LeaseKeeperStats {
  /** Passes that sent at least one renewal. */
  passes: number;
  /** Heartbeat statements sent. */
  statements: number;
  /** Jobs fenced because their lease ran out without a renewal (not those whose outcome was already being written). */
  fenced: number;
}

/**
 * A renewal every third of the lease, so two can fail before it runs out. A pass also renews
 * leases due within the next sixth (half a period) early, so jobs claimed at about the same time
 * share statements instead of each waking the timer.
 */
const RENEW_FRACTION = 3;
const EARLY_FRACTION = 6;
/**
 * After a failed renewal, try again after a tenth of the lease, at most a second: soon enough to
 * renew within the lease once a restarted database is back, rare enough not to hammer it.
 */
const RETRY_FRACTION = 10;
const RETRY_MAX_MS = 1_000;

export class LeaseKeeper {
  readonly #store: Pick<WorkerStore, 'heartbeat'>;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #stats: LeaseKeeperStats = { passes: 0, statements: 0, fenced: 0 };

  constructor(store: Pick<WorkerStore, 'heartbeat'>, logger: Logger, now: () => number = () => performance.now()) {
    this.#store = store;
    this.#logger = logger;
    this.#now = now;
  }

  stats(): LeaseKeeperStats {
    return { ...this.#stats };
  }

  /**
   * Keeps `grab`'s lease (of `leaseMs`, claimed at monotonic `sentAt`) until the returned function
   * is called; `onEnd` hears once if the lease ends first, and says whether it fenced the job.
   */
  track(grab: Grab, leaseMs: number, sentAt: number, onEnd: (end: LeaseEnd) => boolean): () => void {
    const entry: Entry = { grab, leaseMs, deadline: sentAt + leaseMs, renewAt: sentAt + leaseMs / RENEW_FRACTION, inFlight: false, onEnd };
    this.#entries.set(grab.id, entry);
    this.#schedule();
    return () => {
      if (this.#entries.get(grab.id) === entry) this.#entries.delete(grab.id);
      if (this.#entries.size === 0) this.#clearTimer();
    };
  }

  /** Renews one lease now (a handler's own heartbeat); false when PostgreSQL refused it. */
  async renewNow(id: string): Promise<boolean> {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    await this.#renew([entry]);
    return this.#entries.get(id) === entry;
  }

  /** Stops the timer; the holders of the leases still tracked are not told. */
  close(): void {
    this.#entries.clear();
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  /** Sets the one timer to the next deadline or renewal due, whichever comes first. */
  #schedule(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#entries.values()) next = Math.min(next, e.deadline, e.inFlight ? Number.POSITIVE_INFINITY : e.renewAt);
    if (next === this.#timerAt) return;
    this.#clearTimer();
    if (next === Number.POSITIVE_INFINITY) return;
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#pass();
    }, Math.max(0, Math.ceil(next - this.#now())));
  }

  #pass(): void {
    const now = this.#now();
    const due = new Map<number, Entry[]>();
    for (const e of [...this.#entries.values()]) {
      if (now >= e.deadline) {
        this.#end(e, { kind: 'expired', lateMs: Math.round(now - e.deadline) });
        continue;
      }
      if (!e.inFlight && e.renewAt - now <= e.leaseMs / EARLY_FRACTION) {
        const group = due.get(e.leaseMs) ?? [];
        group.push(e);
        due.set(e.leaseMs, group);
      }
    }
    if (due.size > 0) this.#stats.passes++;
    // #renew handles its own failures; a throw from a lease-end callback is logged, not left unhandled.
    for (const group of due.values()) this.#renew(group).catch((err: unknown) => this.#logger.error({ err: (err as Error).message }, 'lease renewal pass failed'));
    this.#schedule();
  }

  /** One heartbeat statement for leases of one length. Never rejects: a failure is retried soon. */
  async #renew(entries: Entry[]): Promise<void> {
    const leaseMs = entries[0]!.leaseMs;
    const sentAt = this.#now();
    entries.forEach((e) => (e.inFlight = true));
    this.#stats.statements++;
    try {
      const results = await this.#store.heartbeat(entries.map((e) => e.grab), { leaseMs });
      const accepted = new Set(results.filter((r) => r.accepted).map((r) => r.id));
      for (const e of entries) {
        e.inFlight = false;
        if (this.#entries.get(e.grab.id) !== e) continue;
        if (accepted.has(e.grab.id)) {
          e.deadline = Math.max(e.deadline, sentAt + leaseMs);
          e.renewAt = sentAt + leaseMs / RENEW_FRACTION;
        } else {
          this.#end(e, { kind: 'refused' });
        }
      }
    } catch (err) {
      const retryAt = this.#now() + Math.min(leaseMs / RETRY_FRACTION, RETRY_MAX_MS);
      for (const e of entries) {
        e.inFlight = false;
        e.renewAt = retryAt;
      }
      this.#logger.warn({ jobs: entries.length, err: (err as Error).message }, 'lease renewal failed; will try again');
    }
    this.#schedule();
  }

  #end(entry: Entry, end: LeaseEnd): void {
    if (this.#entries.get(entry.grab.id) !== entry) return;
    this.#entries.delete(entry.grab.id);
    if (entry.onEnd(end) && end.kind === 'expired') this.#stats.fenced++;
  }
}
