/**
 * Where the worker asks the flow-control store whether a claimed job may start: a place under its
 * key's concurrency cap first, then a start under its rate limit (a refused start gives the place
 * back, so a refusal never holds anything). A place is renewed every third of the job's lease, as
 * the lease is, and given back when the handler is done; a worker that dies leaves it to run out
 * with the lease.
 *
 * Redis unreachable: fail closed (the default) refuses every limited job, which the loop gives back
 * for a few seconds, and tells the loop to hold new deliveries of limited functions unclaimed until
 * Redis returns, so they pause instead of cycling through PostgreSQL; fail open lets them all
 * start, unlimited. Unlimited functions never ask, so they run on either way.
 */
import { FlowControlUnavailable, type ClaimedJob, type FlowControl, type Logger, type Place } from '@drover/core';
import type { ResolvedFunction } from '../options.js';

/** Why a job may not start now, and when to try again. */
export interface Refusal {
  ok: false;
  retryAfterMs: number;
  reason: 'rate limit' | 'concurrency cap' | 'flow control unavailable';
}

/**
 * How long a job over its key's cap is given back for, at most. A place frees when a handler
 * finishes, which no store can predict; a second is long enough for the jobs of other keys queued
 * behind it to take the slots it leaves (fairness), short enough that the key's next job waits
 * little once a place is free. Jittered by half, so the key's refused jobs do not return together.
 */
export const CAP_RETRY_MS = 1000;
/** How long a limited job is given back for while Redis is unreachable (fail closed): a reconnect takes about a second. */
export const UNAVAILABLE_RETRY_MS = 3000;
/** How often a delivery waiting for a start asks again while Redis is unreachable: about as often as ioredis tries to reconnect. */
const UNAVAILABLE_POLL_MS = 250;
/**
 * How long a spare start (granted ahead, for a delivery still to come) is held, at most, and at
 * most a tenth of the limit's window: Redis counted it when it granted it, so its handler starts
 * up to this much later than counted, a lag of the order a busy event loop adds anyway. One
 * unused by then is spent, as a start granted to a duplicate message is.
 */
const SPARE_TTL_MS = 100;

/** What became of a delivery waiting for a start before its claim. */
export type StartOutcome = 'started' | 'expired' | 'stopped';

/** A delivery waiting for a start: until `deadline`, while `keepGoing` says so. */
interface StartWaiter {
  deadline: number;
  keepGoing: () => boolean;
  resolve: (outcome: StartOutcome) => void;
  reject: (err: unknown) => void;
}

export class FlowGate {
  /** Renewal timers of the places held, by holder. */
  readonly #renewals = new Map<string, NodeJS.Timeout>();
  /** Per function with a keyless rate limit: this process's deliveries waiting for a start, first come first. */
  readonly #startQueues = new Map<string, StartWaiter[]>();
  /** Per function with a keyless rate limit: spare starts granted ahead, and until when they may be used. */
  readonly #spares = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly flow: FlowControl | null,
    private readonly failOpen: boolean,
    private readonly logger: Logger,
    private readonly random: () => number,
  ) {}

  /** True while deliveries of `fn` should wait unclaimed: it is limited, the store is unreachable, and the gate fails closed. */
  paused(fn: ResolvedFunction): boolean {
    return fn.flow !== null && this.flow !== null && !this.failOpen && !this.flow.available();
  }

  /**
   * True when `fn`'s start is taken before the claim: its rate limit has no key, so the job's arg
   * is not needed, and a delivery can wait for its turn without costing PostgreSQL a claim and a
   * decline per refusal.
   */
  startsBeforeClaim(fn: ResolvedFunction): boolean {
    return this.flow !== null && fn.flow?.rate !== null && fn.flow?.rate !== undefined && fn.flow.rate.keyOf === null;
  }

  /**
   * Waits for a start of `fn` before its delivery is claimed, holding no slot: deliveries queue in
   * this process, first come first served, and one ask at a time goes to Redis for every delivery
   * waiting then (a batch: deliveries arrive in bursts of the prefetch, and one round trip per
   * delivery, each waiting for the one before, made a drain 48 % slower), sleeping until the
   * window allows between asks. Resolves 'started', or 'expired' at `deadline`, or 'stopped' once
   * `keepGoing` says so; while Redis is unreachable it waits for it (fail closed) or starts at once
   * (fail open). A start granted to a delivery that expired or stopped meanwhile is spent. Far
   * under the limit (the window at most a quarter full) an ask also takes spare starts, a slot's
   * worth, that the next deliveries use without asking while they are fresh (SPARE_TTL_MS).
   */
  takeStartBeforeClaim(fn: ResolvedFunction, deadline: number, keepGoing: () => boolean): Promise<StartOutcome> {
    // A spare start, if one is left and nobody is ahead in the queue: no round trip at all.
    if (!this.#startQueues.has(fn.funcname) && this.#takeSpare(fn.funcname)) return Promise.resolve('started');
    return new Promise<StartOutcome>((resolve, reject) => {
      let queue = this.#startQueues.get(fn.funcname);
      if (!queue) this.#startQueues.set(fn.funcname, (queue = []));
      queue.push({ deadline, keepGoing, resolve, reject });
      // One pump per function, started once the current tick is done, so that a burst of
      // deliveries (a prefetch's worth, decoded from one socket read) goes in its first ask. It
      // settles every waiter itself, failures included, and never rejects.
      if (queue.length === 1) queueMicrotask(() => void this.#pumpStarts(fn, queue).catch(() => undefined));
    });
  }

  /** Asks for starts for `queue`'s deliveries, a batch per ask, until none waits; runs while the queue is not empty. */
  async #pumpStarts(fn: ResolvedFunction, queue: StartWaiter[]): Promise<void> {
    const rate = fn.flow!.rate!;
    try {
      for (;;) {
        const now = Date.now();
        // Those that gave up leave the queue first: they ask for nothing.
        for (let i = queue.length - 1; i >= 0; i--) {
          const w = queue[i]!;
          if (!w.keepGoing()) w.resolve('stopped');
          else if (w.deadline <= now) w.resolve('expired');
          else continue;
          queue.splice(i, 1);
        }
        while (queue.length > 0 && this.#takeSpare(fn.funcname)) queue.shift()!.resolve('started');
        if (queue.length === 0) break;
        let waitMs: number;
        try {
          // Spares for the slot's worth of deliveries likely to follow (granted only far under the limit).
          const answer = await this.flow!.takeStarts(fn.funcname, rate, queue.length, fn.slots);
          if (answer.spare > 0) this.#spares.set(fn.funcname, { count: answer.spare, until: Date.now() + Math.min(SPARE_TTL_MS, rate.perMs / 10) });
          for (const w of queue.splice(0, answer.granted)) w.resolve('started');
          // All granted: ask again at once for those that came meanwhile (the loop ends if none did).
          if (answer.retryAfterMs === 0) continue;
          waitMs = answer.retryAfterMs;
        } catch (err) {
          if (!(err instanceof FlowControlUnavailable)) throw err;
          if (this.failOpen) {
            for (const w of queue.splice(0)) w.resolve('started');
            continue;
          }
          // Polled, as the delivery loop polls: a reconnect is noticed within this.
          waitMs = UNAVAILABLE_POLL_MS;
        }
        if (queue.length === 0) continue;
        const soonest = Math.min(...queue.map((w) => w.deadline)) - Date.now();
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(waitMs, soonest))));
      }
    } catch (err) {
      // A bug, not Redis: every waiting delivery hears of it, as each would have on its own.
      for (const w of queue.splice(0)) w.reject(err);
    } finally {
      if (this.#startQueues.get(fn.funcname) === queue && queue.length === 0) this.#startQueues.delete(fn.funcname);
    }
  }

  /** Uses one of `funcname`'s spare starts, if one is left and still fresh. */
  #takeSpare(funcname: string): boolean {
    const spares = this.#spares.get(funcname);
    if (!spares) return false;
    if (spares.count <= 0 || Date.now() >= spares.until) {
      this.#spares.delete(funcname);
      return false;
    }
    spares.count--;
    return true;
  }

  /** Takes what `job` needs to start: `place` is null when it needs none (or the store was skipped, failing open). */
  async admit(fn: ResolvedFunction, job: ClaimedJob, options: { startTaken?: boolean } = {}): Promise<{ ok: true; place: Place | null } | Refusal> {
    const flow = fn.flow;
    if (!flow || !this.flow) return { ok: true, place: null };
    let place: Place | null = null;
    try {
      if (flow.cap) {
        const candidate = { bucket: `${fn.funcname}|${flow.cap.keyOf(job.arg)}`, holder: `${job.id}:${job.grabToken}` };
        const answer = await this.flow.takePlace(candidate.bucket, candidate.holder, flow.cap.perKey, fn.leaseMs);
        if (!answer.ok) return { ok: false, reason: 'concurrency cap', retryAfterMs: Math.round(Math.min(answer.retryAfterMs, CAP_RETRY_MS) * (0.5 + this.random() * 0.5)) };
        place = candidate;
      }
      if (flow.rate && !options.startTaken) {
        const bucket = flow.rate.keyOf ? `${fn.funcname}|${flow.rate.keyOf(job.arg)}` : fn.funcname;
        const answer = await this.flow.takeStart(bucket, flow.rate);
        if (!answer.ok) {
          if (place) await this.#giveBack(place);
          return { ok: false, reason: 'rate limit', retryAfterMs: answer.retryAfterMs };
        }
      }
    } catch (err) {
      if (!(err instanceof FlowControlUnavailable)) throw err;
      if (place) await this.#giveBack(place);
      if (this.failOpen) return { ok: true, place: null };
      return { ok: false, reason: 'flow control unavailable', retryAfterMs: UNAVAILABLE_RETRY_MS };
    }
    if (place) this.#renewEvery(place, fn.leaseMs);
    return { ok: true, place };
  }

  /** Gives a place back once its job's handler is done (a failure to reach the store leaves it to its lease). */
  async release(place: Place): Promise<void> {
    clearTimeout(this.#renewals.get(place.holder));
    this.#renewals.delete(place.holder);
    await this.#giveBack(place);
  }

  /** Stops renewing: places still held run out with their leases. */
  close(): void {
    for (const t of this.#renewals.values()) clearTimeout(t);
    this.#renewals.clear();
  }

  #renewEvery(place: Place, leaseMs: number): void {
    // A third of the lease, as the lease keeper renews the job: two renewals may fail before the place lapses.
    const timer = setTimeout(() => {
      if (!this.#renewals.has(place.holder)) return;
      this.flow!.renewPlaces([place], leaseMs).catch((err: unknown) => {
        this.logger.warn({ bucket: place.bucket, err: (err as Error).message }, 'could not renew a concurrency place; it runs out with the lease unless a later renewal gets through');
      });
      this.#renewEvery(place, leaseMs);
    }, leaseMs / 3);
    timer.unref();
    this.#renewals.set(place.holder, timer);
  }

  async #giveBack(place: Place): Promise<void> {
    try {
      await this.flow!.releasePlace(place);
    } catch (err) {
      this.logger.warn({ bucket: place.bucket, err: (err as Error).message }, 'could not give a concurrency place back; it runs out with the lease');
    }
  }
}
