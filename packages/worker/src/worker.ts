/**
 * The worker shim. For each delivery: read the job id, claim the job in PostgreSQL (a failed
 * claim means claimed elsewhere, finished or cancelled: ack and drop), run the handler, ack, and
 * write the outcome straight to PostgreSQL fenced by the grab token. Concurrency is the consumer
 * prefetch (a message stays unacked while its handler runs); a slot group is one prefetch shared
 * by several functions.
 *
 * Claims and completions that arrive together share one statement (see Batcher). Shutdown stops
 * consuming, lets running jobs finish within a bound, and gives the rest back without counting a
 * failure.
 */
import { nanoid } from 'nanoid';
import {
  Batcher,
  backoffDelayMs,
  decodeJobId,
  isRetryableInfrastructureError,
  silentLogger,
  ValidationError,
  type Broker,
  type ClaimedJob,
  type CompleteInput,
  type Delivery,
  type JobStore,
  type Logger,
  type OutcomeResult,
  type Subscription,
} from '@drover/core';
import { Semaphore } from './internal/semaphore.js';
import { runJob, type Outcome, type RunningJob } from './internal/run-job.js';
import { resolveFunctions, type FunctionOptions, type Handler, type ResolvedFunction } from './options.js';

export interface WorkerOptions {
  store: JobStore;
  broker: Broker;
  /** Handlers by funcname: a function, or options with a `handler`. */
  functions: Record<string, Handler | FunctionOptions>;
  /** Slot groups by name: how many jobs of all their functions run at once. */
  slotGroups?: Record<string, number>;
  logger?: Logger;
  /** Names this worker in logs; defaults to a random id. */
  workerId?: string;
  /** How long stop() lets running jobs finish before giving them back. */
  shutdownGraceMs?: number;
  /** Jitter source for retry delays. */
  random?: () => number;
}

/** Ten seconds fits inside the usual 30 s between SIGTERM and SIGKILL, leaving time to give jobs back. */
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/** Claims and completions per statement: big enough to amortise a round trip, small enough to keep locks short. */
const MAX_BATCH = 100;
/**
 * Round trips in flight at once. One: what arrives while a statement travels goes in the next, so
 * batches grow with the load instead of statements multiplying; measured here, two in flight split
 * the same jobs into 40 % more statements for no gain in throughput.
 */
const BATCHES_IN_FLIGHT = 1;
/** Retrying an outcome write while PostgreSQL is away: quick at first, then every 5 s, up to two minutes. */
const WRITE_RETRY_MIN_MS = 50;
const WRITE_RETRY_MAX_MS = 5_000;
const WRITE_RETRY_TOTAL_MS = 120_000;

/** A claim or a completion waiting for the next round trip, and what became of it. */
type RoundTripOp = { kind: 'claim'; id: string; leaseMs: number } | { kind: 'complete'; input: CompleteInput };
type RoundTripResult = { ok: ClaimedJob | OutcomeResult | null } | { err: unknown };

/** What a worker has done since it started. */
export interface WorkerStats {
  running: number;
  completed: number;
  failed: number;
  declined: number;
  /** Deliveries dropped: not claimable, or not a Drover message. */
  dropped: number;
}

export class Worker {
  readonly workerId: string;
  readonly #store: JobStore;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #functions: Map<string, ResolvedFunction>;
  readonly #groups: Map<string, { slots: number; funcnames: string[] }>;
  readonly #groupSlots = new Map<string, Semaphore>();
  readonly #graceMs: number;
  readonly #random: () => number;
  readonly #subscriptions: Subscription[] = [];
  readonly #running = new Map<string, RunningJob>();
  /** Claims and completions, sharing statements: see #roundTrip. */
  readonly #roundTrips: Batcher<RoundTripOp, RoundTripResult>;
  readonly #stats: WorkerStats = { running: 0, completed: 0, failed: 0, declined: 0, dropped: 0 };
  /** Deliveries that were received but not yet claimed or dropped. */
  #pending = 0;
  /** Jobs whose message was acked before their outcome was written, and the most allowed (the worker's slots). */
  #unwritten = 0;
  readonly #maxUnwritten: number;
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';

  constructor(options: WorkerOptions) {
    const { functions, groups } = resolveFunctions(options.functions, options.slotGroups);
    this.workerId = options.workerId ?? `worker-${nanoid(8)}`;
    this.#store = options.store;
    this.#broker = options.broker;
    this.#logger = (options.logger ?? silentLogger).child({ workerId: this.workerId });
    this.#functions = new Map(functions.map((f) => [f.funcname, f]));
    this.#groups = groups;
    for (const [name, group] of groups) this.#groupSlots.set(name, new Semaphore(group.slots));
    this.#graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    this.#random = options.random ?? Math.random;
    this.#roundTrips = new Batcher((ops) => this.#roundTrip(ops), MAX_BATCH, BATCHES_IN_FLIGHT);
    this.#maxUnwritten = [...groups.values()].reduce((n, g) => n + g.slots, 0) + functions.reduce((n, f) => n + (f.group === null ? f.slots : 0), 0);
  }

  stats(): WorkerStats {
    return { ...this.#stats, running: this.#running.size };
  }

  /** Subscribes to every function's queue (one subscription per slot group). */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`worker ${this.workerId}: already ${this.#state}`);
    this.#state = 'running';
    const onDelivery = (d: Delivery): void => void this.#onDelivery(d);
    for (const [name, group] of this.#groups) {
      this.#subscriptions.push(await this.#broker.consume(group.funcnames, group.slots, onDelivery));
      this.#logger.info({ group: name, funcnames: group.funcnames, slots: group.slots }, 'consuming slot group');
    }
    for (const fn of this.#functions.values()) {
      if (fn.group !== null) continue;
      this.#subscriptions.push(await this.#broker.consume([fn.funcname], fn.slots, onDelivery));
      this.#logger.info({ funcname: fn.funcname, slots: fn.slots }, 'consuming');
    }
  }

  async #onDelivery(delivery: Delivery): Promise<void> {
    const fn = this.#functions.get(delivery.funcname);
    const jobId = decodeJobId(delivery.body);
    if (!fn || jobId === null) {
      // Not ours to run: drop it rather than bounce it around the queue forever.
      this.#stats.dropped++;
      this.#logger.warn({ funcname: delivery.funcname, body: delivery.body.slice(0, 100) }, 'dropping a message that is not a Drover job id');
      delivery.ack();
      return;
    }
    if (this.#state !== 'running') return delivery.nack(true);
    // A slot group's budget holds even where the broker cannot share one prefetch (quorum queues).
    // A delivery waiting for a slot counts as pending, so stop() waits for it, and it goes back to
    // its queue if the worker began to stop meanwhile.
    const slots = fn.group === null ? undefined : this.#groupSlots.get(fn.group);
    this.#pending++;
    try {
      await slots?.acquire();
    } finally {
      this.#pending--;
    }
    let job: ClaimedJob | null = null;
    try {
      if (this.#state === 'running') job = await this.#claimFor(delivery, fn, jobId);
      else delivery.nack(true);
    } finally {
      // Released below once the handler is done with the job; here only if nothing runs.
      if (!job) slots?.release();
    }
    if (!job) return;
    const running = runJob(job, fn, { store: this.#store, logger: this.#logger, write: (j, f, o, log) => this.#write(j, f, o, log) });
    this.#running.set(job.id, running);
    await running.decided;
    slots?.release();
    // Once the claim committed, the lease in PostgreSQL protects the job and the message has no
    // part left in its fate: a redelivered copy would find the job running and be dropped, and if
    // this process dies the lease runs out and the scheduler takes the job back. So the message is
    // acked as soon as the handler is done, and the slot's next message comes while the outcome
    // is written. Unwritten outcomes are bounded: past the bound, acks wait for the writes, so a
    // slow database slows the deliveries down instead of piling up outcomes in memory.
    if (this.#unwritten < this.#maxUnwritten) {
      delivery.ack();
      this.#unwritten++;
      await running.done;
      this.#unwritten--;
    } else {
      await running.done;
      delivery.ack();
    }
    this.#running.delete(job.id);
  }

  /** Claims the delivery's job; null (the delivery settled) when it cannot run here. */
  async #claimFor(delivery: Delivery, fn: ResolvedFunction, jobId: string): Promise<ClaimedJob | null> {
    this.#pending++;
    let job: ClaimedJob | null;
    try {
      job = await this.#claim(jobId, fn);
    } catch (err) {
      // Stopping while PostgreSQL is away: the message goes back for another worker.
      this.#logger.warn({ jobId, err: (err as Error).message }, 'claim abandoned; message requeued');
      delivery.nack(true);
      return null;
    } finally {
      this.#pending--;
    }
    if (!job) {
      this.#stats.dropped++;
      this.#logger.debug({ jobId, funcname: fn.funcname }, 'not claimable (claimed elsewhere, finished or cancelled); dropping the message');
      delivery.ack();
    }
    return job;
  }

  /**
   * One statement for the claims and completions gathered meanwhile (store.completeAndClaim): a
   * worker under load both finishes and receives jobs all the time, and one round trip and one
   * commit for both costs the database and this process half of two. If the statement fails for
   * a reason other than the database being away (one job's result that is not JSON, say), each
   * operation is tried alone, so that only the one at fault fails.
   */
  async #roundTrip(ops: RoundTripOp[]): Promise<RoundTripResult[]> {
    try {
      return (await this.#roundTripOnce(ops)).map((ok) => ({ ok }));
    } catch (err) {
      if (ops.length === 1 || isRetryableInfrastructureError(err)) return ops.map(() => ({ err }));
      return Promise.all(ops.map((op) => this.#roundTripOnce([op]).then(([ok]) => ({ ok: ok! }), (e: unknown) => ({ err: e }))));
    }
  }

  async #roundTripOnce(ops: RoundTripOp[]): Promise<(ClaimedJob | OutcomeResult | null)[]> {
    const claims = ops.flatMap((op) => (op.kind === 'claim' ? [{ id: op.id, leaseMs: op.leaseMs }] : []));
    const completions = ops.flatMap((op) => (op.kind === 'complete' ? [op.input] : []));
    const { completed, claimed } = await this.#store.completeAndClaim({ completions, claims });
    const jobs = new Map(claimed.map((j) => [j.id, j]));
    const outcomes = new Map(completed.map((o) => [o.id, o]));
    return ops.map((op) => {
      if (op.kind === 'complete') return outcomes.get(op.input.id)!;
      // A duplicate id within one batch gets the job once; the other copy is dropped.
      const job = jobs.get(op.id) ?? null;
      jobs.delete(op.id);
      return job;
    });
  }

  /** Sends one operation with the next round trip. */
  async #roundTripOp(op: RoundTripOp): Promise<ClaimedJob | OutcomeResult | null> {
    const result = await this.#roundTrips.add(op);
    if ('err' in result) throw result.err;
    return result.ok;
  }

  /** Claims one job, retrying while PostgreSQL is unreachable. */
  async #claim(jobId: string, fn: ResolvedFunction): Promise<ClaimedJob | null> {
    return this.#retrying(() => this.#roundTripOp({ kind: 'claim', id: jobId, leaseMs: fn.leaseMs }), 'claim', () => this.#state === 'running') as Promise<ClaimedJob | null>;
  }

  /** Writes an outcome, retrying infrastructure errors; a refused write means the lease was lost. */
  async #write(job: ClaimedJob, fn: ResolvedFunction, outcome: Outcome, log: () => Logger): Promise<void> {
    let accepted = true;
    try {
      switch (outcome.kind) {
        case 'lost':
          return;
        case 'complete': {
          const input = { id: job.id, grabToken: job.grabToken, result: outcome.result, ...(fn.keepForMs === undefined ? {} : { keepForMs: fn.keepForMs }) };
          try {
            accepted = ((await this.#retrying(() => this.#roundTripOp({ kind: 'complete', input }), 'complete')) as OutcomeResult).accepted;
          } catch (err) {
            // A result the store cannot hold (not JSON) is the handler's failure, not the database's.
            if (!(err instanceof ValidationError)) throw err;
            return this.#write(job, fn, { kind: 'fail', error: `the handler's result cannot be stored: ${err.message}` }, log);
          }
          if (accepted) this.#stats.completed++;
          break;
        }
        case 'fail':
        case 'permanent': {
          const result = await this.#retrying(() =>
            this.#store.fail({
              id: job.id,
              grabToken: job.grabToken,
              error: outcome.error,
              permanent: outcome.kind === 'permanent',
              retryDelayMs: backoffDelayMs(job.failures + 1, fn.policy, this.#random),
              ...(fn.maxRetriesOverride === undefined ? {} : { maxRetries: fn.maxRetriesOverride }),
            }), 'fail');
          accepted = result.accepted;
          if (accepted) this.#stats.failed++;
          log().info({ outcome: result.outcome, failures: result.failures, runAfter: result.runAfter, error: outcome.error.split('\n')[0] }, 'attempt failed');
          break;
        }
        case 'decline':
          accepted = (await this.#retrying(() => this.#store.decline({ ...job, runAfter: outcome.runAfter }), 'decline')).accepted;
          if (accepted) this.#stats.declined++;
          break;
        case 'replace':
          accepted = (await this.#retrying(() => this.#store.replaceWith(job, outcome.jobs, fn.keepForMs === undefined ? {} : { keepForMs: fn.keepForMs }), 'replace')).accepted;
          if (accepted) this.#stats.completed++;
          break;
      }
      if (!accepted) log().warn({ outcome: outcome.kind }, 'outcome refused: the lease was lost; the job was taken back or cancelled');
    } catch (err) {
      // The job stays running until its lease expires, then runs again: at least once, never lost.
      log().error({ outcome: outcome.kind, err: (err as Error).message }, 'could not write the outcome; the lease will expire and the job will run again');
    }
  }

  /** Runs `op`, retrying retryable infrastructure errors with backoff while `keepGoing` holds, up to a bound. */
  async #retrying<T>(op: () => Promise<T>, what: string, keepGoing: () => boolean = () => true): Promise<T> {
    const deadline = Date.now() + WRITE_RETRY_TOTAL_MS;
    for (let delay = WRITE_RETRY_MIN_MS; ; delay = Math.min(delay * 2, WRITE_RETRY_MAX_MS)) {
      try {
        return await op();
      } catch (err) {
        if (!isRetryableInfrastructureError(err) || !keepGoing() || Date.now() + delay > deadline) throw err;
        this.#logger.warn({ err: (err as Error).message, retryInMs: delay }, `${what} failed; retrying`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /**
   * Stops consuming, waits up to the grace period for running jobs, then gives the rest back
   * (declined: not counted as failures) and returns unclaimed deliveries to their queues.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    await Promise.all(this.#subscriptions.map((s) => s.cancel()));
    const deadline = Date.now() + this.#graceMs;
    while ((this.#running.size > 0 || this.#pending > 0) && Date.now() < deadline) {
      await Promise.race([...[...this.#running.values()].map((r) => r.done), new Promise((resolve) => setTimeout(resolve, 50))]);
    }
    const left = [...this.#running.values()];
    if (left.length > 0) this.#logger.warn({ jobs: left.map((r) => r.job.id) }, 'grace period over; giving running jobs back');
    left.forEach((r) => r.giveBack());
    await Promise.all(left.map((r) => r.done));
    await Promise.all(this.#subscriptions.map((s) => s.close()));
    this.#state = 'stopped';
    this.#logger.info(this.stats() as unknown as Record<string, unknown>, 'worker stopped');
  }
}

/** Validates the options (errors name the option) and creates a worker; call start() to consume. */
export function createWorker(options: WorkerOptions): Worker {
  return new Worker(options);
}
