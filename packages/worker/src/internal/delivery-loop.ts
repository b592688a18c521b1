/**
 * What the worker does with each delivery: read the job id, wait for a slot of its subscription,
 * claim the job (with its coalesced siblings), run it, ack. A failed claim means claimed
 * elsewhere, finished or cancelled: ack and drop.
 *
 * Concurrency is counted here, one semaphore per subscription (a function, or a slot group), not
 * left to the broker's prefetch: a job may run for days, and RabbitMQ closes a channel whose
 * delivery stays unacked past its consumer timeout (30 min by default). Since the lease decides
 * the job's fate from the claim on, the message of a job that has run for `ackAfterMs` is acked
 * while the job keeps its slot; the broker then sends the next message, which waits for a slot,
 * and goes back to its queue if it waited `ackAfterMs` too, so that no delivery times out either.
 */
import { performance } from 'node:perf_hooks';
import { ValidationError, type Delivery, type Logger, type Place, type WorkerStore } from '@drover/core';
import type { ResolvedFunction } from '../options.js';
import type { FlowGate } from './flow-gate.js';
import { retrying } from './retrying.js';
import { runJob, type RunDeps, type RunningJob } from './run-job.js';
import type { Claim, RoundTrips } from './round-trips.js';
import type { Semaphore } from './semaphore.js';

/** How often drained() looks again at deliveries waiting for a slot: short next to a shutdown, rare next to a busy loop. */
const POLL_MS = 50;

/** Counters the loop keeps for the worker's stats. */
export interface DeliveryCounts {
  /** Deliveries dropped: not claimable, or not a Drover message. */
  dropped: number;
  /** Deliveries given back to their queue after waiting `ackAfterMs` for a slot. */
  requeued: number;
  /** Jobs claimed after the worker began to stop, given back unrun. */
  givenBack: number;
  /**
   * Jobs given back unrun over a rate limit or concurrency cap, or because the flow-control store
   * was unreachable (fail closed), each to run when its window allows; counted in `declined` too.
   */
  limited: number;
  /** Deliveries of limited functions that waited unclaimed for the flow-control store to return (fail closed). */
  flowPaused: number;
}

export interface DeliveryLoopDeps {
  functions: ReadonlyMap<string, ResolvedFunction>;
  /** The semaphore of the subscription a function is consumed by. */
  slotsOf(fn: ResolvedFunction): Semaphore;
  /** Whether the worker still takes new work. A function property: it is handed on to retries as a callback. */
  isRunning: () => boolean;
  store: WorkerStore;
  roundTrips: RoundTrips;
  run: RunDeps;
  /** Rate limits and concurrency caps. */
  gate: FlowGate;
  logger: Logger;
  counts: DeliveryCounts;
  ackAfterMs: number;
  /** Jobs whose message may be acked before their outcome is written (the worker's slots). */
  maxUnwritten: number;
}

export class DeliveryLoop {
  /** Jobs running (or writing their outcome), by id. */
  readonly running = new Map<string, RunningJob>();
  /** Deliveries received but not yet claimed or settled: stop() waits for them. */
  pending = 0;
  /** Claims in flight, with the give-back they may end in: {@link drained} waits for them. */
  readonly #claims = new Set<Promise<unknown>>();
  #unwritten = 0;

  constructor(private readonly deps: DeliveryLoopDeps) {}

  /**
   * Handles one delivery to the end (outcome written, message settled); `jobId` is its decoded
   * body, null when it is not a Drover message. Rejects only on a bug; the caller logs it.
   */
  async handle(delivery: Delivery, jobId: string | null): Promise<void> {
    const { deps } = this;
    const fn = deps.functions.get(delivery.funcname);
    if (!fn || jobId === null) {
      // Not ours to run: drop it rather than bounce it around the queue forever.
      deps.counts.dropped++;
      deps.logger.warn({ funcname: delivery.funcname, body: delivery.body.slice(0, 100) }, 'dropping a message that is not a Drover job id');
      delivery.ack();
      return;
    }
    if (!deps.isRunning()) return delivery.nack(true);
    const slots = deps.slotsOf(fn);
    // A keyless rate limit is taken before the claim (see FlowGate.startsBeforeClaim); the rest after it.
    const startTaken = deps.gate.startsBeforeClaim(fn);
    this.pending++;
    let slot: boolean;
    try {
      if (deps.gate.paused(fn) && !(await this.#waitForFlowControl(fn))) {
        deps.counts.requeued++;
        delivery.nack(true);
        return;
      }
      if (startTaken) {
        const outcome = await deps.gate.takeStartBeforeClaim(fn, Date.now() + deps.ackAfterMs, deps.isRunning);
        if (outcome !== 'started') {
          // Waited as long as a delivery may (or the worker is stopping): back to the queue, unclaimed.
          if (outcome === 'expired') deps.counts.requeued++;
          delivery.nack(true);
          return;
        }
      }
      slot = await slots.tryAcquire(deps.ackAfterMs);
    } finally {
      this.pending--;
    }
    if (!slot || !deps.isRunning()) {
      if (slot) slots.release();
      else deps.counts.requeued++;
      delivery.nack(true);
      return;
    }
    let running: { job: RunningJob; place: Place | null } | null = null;
    const claiming = this.#claimAndRun(delivery, fn, jobId, startTaken);
    this.#claims.add(claiming);
    try {
      running = await claiming;
    } finally {
      this.#claims.delete(claiming);
      // Released below once the handler is done with the job; here only if nothing runs.
      if (!running) slots.release();
    }
    if (!running) return;
    let acked = false;
    const ack = (): void => {
      if (!acked) delivery.ack();
      acked = true;
    };
    const early = setTimeout(() => {
      deps.logger.info({ jobId, funcname: fn.funcname, afterMs: deps.ackAfterMs }, 'long-running job: acking its message now, before the broker times the delivery out; the lease keeps the job');
      ack();
    }, deps.ackAfterMs);
    await running.job.decided;
    clearTimeout(early);
    slots.release();
    if (running.place) await deps.gate.release(running.place);
    // Once the claim committed, the lease in PostgreSQL protects the job and the message has no
    // part left in its fate: a redelivered copy would find the job running and be dropped, and if
    // this process dies the lease runs out and the scheduler takes the job back. So the message is
    // acked as soon as the handler is done, and the slot's next message comes while the outcome
    // is written. Unwritten outcomes are bounded: past the bound, acks wait for the writes, so a
    // slow database slows the deliveries down instead of piling up outcomes in memory.
    if (acked || this.#unwritten < deps.maxUnwritten) {
      ack();
      this.#unwritten++;
      await running.job.done;
      this.#unwritten--;
    } else {
      await running.job.done;
      ack();
    }
    this.running.delete(running.job.job.id);
  }

  /**
   * Resolves once no delivery is waiting for a slot or a claim, and every claim that came back
   * after the worker began to stop has given its jobs back. Call it once the worker no longer
   * runs: waiting deliveries then settle as soon as they get a slot, and claims are bounded by the
   * store's query timeout (they stop retrying once the worker stops).
   */
  async drained(): Promise<void> {
    while (this.pending > 0 || this.#claims.size > 0) {
      // Polled as well as awaited: a delivery waiting for a slot has no promise to await here.
      await Promise.race([...this.#claims, new Promise((resolve) => setTimeout(resolve, POLL_MS))]);
    }
  }

  /**
   * Waits, holding the delivery but no slot and no claim, until the flow-control store is back or
   * `ackAfterMs` passed (then false: the delivery goes back to its queue before the broker times it out).
   */
  async #waitForFlowControl(fn: ResolvedFunction): Promise<boolean> {
    const { deps } = this;
    deps.counts.flowPaused++;
    deps.logger.debug({ funcname: fn.funcname }, 'flow control unreachable: holding the delivery of a limited function until it returns');
    const deadline = Date.now() + deps.ackAfterMs;
    while (deps.gate.paused(fn) && deps.isRunning() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    return !deps.gate.paused(fn) && deps.isRunning();
  }

  /** Claims the delivery's job and starts it (with its flow-control place); null (the delivery settled) when it does not run here. */
  async #claimAndRun(delivery: Delivery, fn: ResolvedFunction, jobId: string, startTaken: boolean): Promise<{ job: RunningJob; place: Place | null } | null> {
    const { deps } = this;
    this.pending++;
    let claim: Claim | null;
    let siblings: Claim[] = [];
    try {
      claim = await deps.roundTrips.claim(jobId, fn.leaseMs, deps.isRunning);
      if (claim && fn.coalesceMax > 0 && claim.job.coalesce !== null) siblings = await this.#claimSiblings(fn, claim.job.coalesce);
    } catch (err) {
      // Stopping while PostgreSQL is away: the message goes back for another worker.
      deps.logger.warn({ jobId, err: (err as Error).message }, 'claim abandoned; message requeued');
      delivery.nack(true);
      return null;
    } finally {
      this.pending--;
    }
    if (!claim) {
      deps.counts.dropped++;
      deps.logger.debug({ jobId, funcname: fn.funcname }, 'not claimable (claimed elsewhere, finished or cancelled); dropping the message');
      delivery.ack();
      return null;
    }
    if (!deps.isRunning()) {
      // The claim came back after stop() began (or after its grace period ended, with nobody left
      // to wait for a handler): give the jobs back unrun, not counted as failures.
      deps.counts.givenBack += 1 + siblings.length;
      deps.logger.info({ jobId, siblings: siblings.length }, 'claimed while stopping; giving the job back unrun');
      const log = (): Logger => deps.logger;
      await Promise.all([claim, ...siblings].map((c) => deps.run.writer.write(c.job, fn, { kind: 'decline', runAfter: null }, log, () => true)));
      delivery.nack(true);
      return null;
    }
    let admission: Awaited<ReturnType<FlowGate['admit']>>;
    try {
      admission = await deps.gate.admit(fn, claim.job, { startTaken });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // The configured key reader rejected this job's arg: an error of the job, as a handler's would be.
      const log = (): Logger => deps.logger;
      await Promise.all([claim, ...siblings].map((c) => deps.run.writer.write(c.job, fn, { kind: 'fail', error: err.message, cause: err }, log, () => true)));
      delivery.ack();
      return null;
    }
    if (!admission.ok) {
      // Given back unrun, counting no failure, to come back when the window allows; the slot is
      // free again as soon as the decline is written, for jobs of other keys and functions.
      deps.counts.limited += 1 + siblings.length;
      const runAfter = new Date(Date.now() + admission.retryAfterMs);
      deps.logger.debug({ jobId, funcname: fn.funcname, reason: admission.reason, retryAfterMs: admission.retryAfterMs }, 'over a flow limit; giving the job back until the window allows');
      const log = (): Logger => deps.logger;
      await Promise.all([claim, ...siblings].map((c) => deps.run.writer.write(c.job, fn, { kind: 'decline', runAfter }, log, () => true)));
      delivery.ack();
      return null;
    }
    const running = runJob(claim, siblings, fn, deps.run);
    this.running.set(claim.job.id, running);
    return { job: running, place: admission.place };
  }

  /** Claims up to the function's bound of ready jobs sharing a coalesce value; none if that fails. */
  async #claimSiblings(fn: ResolvedFunction, coalesce: string): Promise<Claim[]> {
    const { deps } = this;
    let sentAt = 0;
    try {
      const jobs = await retrying(() => {
        sentAt = performance.now();
        return deps.store.claimCoalesced(fn.funcname, coalesce, fn.coalesceMax, { leaseMs: fn.leaseMs });
      }, 'claim siblings', deps.logger, deps.isRunning);
      return jobs.map((job) => ({ job, sentAt }));
    } catch (err) {
      // The first job runs alone; its siblings come through their own messages.
      deps.logger.warn({ funcname: fn.funcname, err: (err as Error).message }, 'could not claim coalesced siblings; running the job alone');
      return [];
    }
  }
}
