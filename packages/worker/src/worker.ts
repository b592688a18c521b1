/**
 * The worker shim. For each delivery: read the job id, claim the job in PostgreSQL (a failed
 * claim means claimed elsewhere, finished or cancelled: ack and drop), run the handler, ack, and
 * write the outcome straight to PostgreSQL fenced by the grab token. Each subscription (a
 * function, or a slot group shared by several) runs at most its slots at once.
 *
 * The parts, under `internal/`: the delivery loop (slots, claim, run, ack), round trips (claims
 * and completions batched into shared statements), the lease keeper (one timer renewing every
 * lease, fencing a job whose lease ran out), the outcome writer, and run-job (one attempt and its
 * coalesced siblings). Shutdown stops consuming, lets running jobs finish within a bound, and
 * gives the rest back without counting a failure.
 */
import { hostname } from 'node:os';
import { nanoid } from 'nanoid';
import { PresenceHeartbeat, ValidationError, decodeJobId, silentLogger, type Broker, type Delivery, type FlowControl, type Logger, type PresenceOptions, type Subscription, type WorkerPresence, type WorkerStore } from '@drover/core';
import { DeliveryLoop, type DeliveryCounts } from './internal/delivery-loop.js';
import { FlowGate } from './internal/flow-gate.js';
import { LeaseKeeper } from './internal/lease-keeper.js';
import { OutcomeWriter, type OutcomeCounts } from './internal/outcome-writer.js';
import { RoundTrips } from './internal/round-trips.js';
import { Semaphore } from './internal/semaphore.js';
import { WORKER_VERSION } from './internal/version.js';
import { resolveFunctions, type FunctionOptions, type Handler, type ResolvedFunction } from './options.js';

export interface WorkerOptions {
  /** The store's worker port (claims, leases, outcomes): a worker needs nothing else of it. */
  store: WorkerStore;
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
  /**
   * A job that has run this long has its message acked while it keeps its slot, and a delivery
   * that waited this long for a slot goes back to its queue: RabbitMQ closes a channel whose
   * delivery stays unacked past its `consumer_timeout`. Default {@link DEFAULT_ACK_LONG_RUNNING_AFTER_MS}.
   */
  ackLongRunningAfterMs?: number;
  /**
   * How long past the end of a job's lease (on this worker's clock) the worker keeps retrying the
   * write of an outcome the handler already decided, while PostgreSQL is away. Default
   * {@link DEFAULT_OUTCOME_GRACE_MS}; set it above the store's `restartGraceMs` if that is raised.
   */
  outcomeGraceMs?: number;
  /**
   * Where rate limits and concurrency caps are kept (functions' `rateLimit` and `concurrency`):
   * `RedisFlowControl` of @drover/flow-control for a fleet, `MemoryFlowControl` for one process.
   * Required when a function sets either; functions without them never use it.
   */
  flowControl?: FlowControl;
  /**
   * What limited functions do while the flow-control store is unreachable: false (the default,
   * fail closed) pauses them until it returns; true runs them without limits meanwhile.
   * Unlimited functions run on either way.
   */
  flowFailOpen?: boolean;
  /** Jitter source for retry delays. */
  random?: () => number;
  /**
   * Where the worker reports itself (`drover workers`, `GET /workers`): announced on start, every
   * `heartbeatMs` after with the jobs it runs, withdrawn on stop. A registry that is unreachable
   * only makes the worker stale there; it never holds up or fails a job. Unset: not reported.
   */
  presence?: PresenceOptions;
}

/** Ten seconds fits inside the usual 30 s between SIGTERM and SIGKILL, leaving time to give jobs back. */
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/**
 * Five minutes: well under RabbitMQ's default consumer timeout (30 min) and the 15 min some
 * operators set, so no delivery is held near it; long enough that ordinary jobs are acked when
 * they finish, as before, and only the rare long job takes the early ack.
 */
export const DEFAULT_ACK_LONG_RUNNING_AFTER_MS = 5 * 60_000;
/**
 * 45 s: the store's DEFAULT_RESTART_GRACE_MS (30 s, how long after PostgreSQL starts the scheduler
 * leaves leases that ended in the outage alone) plus 15 s for the database's own start and the
 * outcome write's retry backoff (up to 5 s between tries), so a write retried this long has had
 * its chance once the database is back, before the job can be taken back. Past it the job is
 * taken back anyway, and a write that came later would only be refused by the grab token.
 */
export const DEFAULT_OUTCOME_GRACE_MS = 45_000;
/** Below this the broker would be sent a stream of requeues for nothing; tests use a short bound. */
const ACK_LONG_RUNNING_MIN_MS = 100;

/** What a worker has done since it started. */
export interface WorkerStats extends OutcomeCounts, DeliveryCounts {
  running: number;
  /** Jobs fenced: their lease ran out without a renewal while the handler ran, so it was aborted and nothing written. */
  fenced: number;
  /** Lease-renewal statements sent (one per renewal pass and lease length, whatever the jobs). */
  renewals: number;
}

export class Worker {
  readonly workerId: string;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #functions: Map<string, ResolvedFunction>;
  readonly #groups: Map<string, { slots: number; funcnames: string[] }>;
  /** One semaphore per subscription: by group name, or by funcname for a function of its own. */
  readonly #slots = new Map<string, Semaphore>();
  readonly #graceMs: number;
  readonly #subscriptions: Subscription[] = [];
  readonly #leases: LeaseKeeper;
  readonly #loop: DeliveryLoop;
  readonly #gate: FlowGate;
  readonly #counts: OutcomeCounts & DeliveryCounts = { completed: 0, skipped: 0, failed: 0, declined: 0, dropped: 0, requeued: 0, givenBack: 0, limited: 0, flowPaused: 0 };
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  readonly #heartbeat: PresenceHeartbeat | null;
  readonly #slotCount: number;
  #startedAt = new Date();

  constructor(options: WorkerOptions) {
    const { functions, groups } = resolveFunctions(options.functions, options.slotGroups);
    const ackAfterMs = options.ackLongRunningAfterMs ?? DEFAULT_ACK_LONG_RUNNING_AFTER_MS;
    if (!Number.isInteger(ackAfterMs) || ackAfterMs < ACK_LONG_RUNNING_MIN_MS) {
      throw new ValidationError('ackLongRunningAfterMs', `must be a whole number of milliseconds, at least ${ACK_LONG_RUNNING_MIN_MS}`);
    }
    const outcomeGraceMs = options.outcomeGraceMs ?? DEFAULT_OUTCOME_GRACE_MS;
    if (!Number.isInteger(outcomeGraceMs) || outcomeGraceMs < 0) throw new ValidationError('outcomeGraceMs', 'must be a whole number of milliseconds, 0 or more');
    const limited = functions.find((f) => f.flow !== null);
    if (limited && !options.flowControl) {
      throw new ValidationError('flowControl', `is required: functions.${limited.funcname} sets a rateLimit or concurrency (RedisFlowControl for a fleet, MemoryFlowControl for one process)`);
    }
    if (options.flowFailOpen !== undefined && typeof options.flowFailOpen !== 'boolean') throw new ValidationError('flowFailOpen', 'must be true or false');
    this.workerId = options.workerId ?? `worker-${nanoid(8)}`;
    this.#broker = options.broker;
    this.#logger = (options.logger ?? silentLogger).child({ workerId: this.workerId });
    this.#functions = new Map(functions.map((f) => [f.funcname, f]));
    this.#groups = groups;
    for (const [name, group] of groups) this.#slots.set(`group:${name}`, new Semaphore(group.slots));
    for (const f of functions) if (f.group === null) this.#slots.set(`fn:${f.funcname}`, new Semaphore(f.slots));
    this.#graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    this.#slotCount = [...groups.values()].reduce((n, g) => n + g.slots, 0) + functions.reduce((n, f) => n + (f.group === null ? f.slots : 0), 0);
    const roundTrips = new RoundTrips(options.store, this.#logger);
    this.#leases = new LeaseKeeper(options.store, this.#logger);
    const writer = new OutcomeWriter(options.store, roundTrips, this.#logger, options.random ?? Math.random, this.#counts);
    this.#gate = new FlowGate(options.flowControl ?? null, options.flowFailOpen ?? false, this.#logger, options.random ?? Math.random);
    this.#loop = new DeliveryLoop({
      functions: this.#functions,
      slotsOf: (fn) => this.#slots.get(fn.group === null ? `fn:${fn.funcname}` : `group:${fn.group}`)!,
      isRunning: () => this.#state === 'running',
      store: options.store,
      roundTrips,
      run: { logger: this.#logger, leases: this.#leases, writer, outcomeGraceMs },
      gate: this.#gate,
      logger: this.#logger,
      counts: this.#counts,
      ackAfterMs,
      maxUnwritten: this.#slotCount,
    });
    this.#heartbeat = options.presence
      ? new PresenceHeartbeat({ ...options.presence, record: () => this.presenceRecord(), logger: this.#logger })
      : null;
  }

  /** What this worker reports to presence now. */
  presenceRecord(): WorkerPresence {
    return {
      id: this.workerId,
      kind: 'shim',
      client: null,
      host: hostname(),
      pid: process.pid,
      functions: [...this.#functions.keys()].sort(),
      slots: this.#slotCount,
      running: this.#loop.running.size,
      version: WORKER_VERSION,
      startedAt: this.#startedAt,
    };
  }

  stats(): WorkerStats {
    const leases = this.#leases.stats();
    return { ...this.#counts, running: this.#loop.running.size, fenced: leases.fenced, renewals: leases.statements };
  }

  /** Subscribes to every function's queue (one subscription per slot group). */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`worker ${this.workerId}: already ${this.#state}`);
    this.#state = 'running';
    this.#startedAt = new Date();
    const onDelivery = (d: Delivery): void => {
      this.#loop.handle(d, decodeJobId(d.body)).catch((err: unknown) => {
        // A bug, not a fault of the job: the message may stay unacked until the channel closes; the lease covers the job.
        this.#logger.error({ funcname: d.funcname, err: (err as Error).message }, 'delivery handling failed unexpectedly');
      });
    };
    for (const [name, group] of this.#groups) {
      this.#subscriptions.push(await this.#broker.consume(group.funcnames, group.slots, onDelivery));
      this.#logger.info({ group: name, funcnames: group.funcnames, slots: group.slots }, 'consuming slot group');
    }
    for (const fn of this.#functions.values()) {
      if (fn.group !== null) continue;
      this.#subscriptions.push(await this.#broker.consume([fn.funcname], fn.slots, onDelivery));
      this.#logger.info({ funcname: fn.funcname, slots: fn.slots }, 'consuming');
    }
    // Announced once it consumes: a worker listed is one that takes jobs.
    this.#heartbeat?.start();
  }

  /**
   * Stops consuming, waits up to the grace period for running jobs (and their after hooks), then gives the rest back
   * (declined: not counted as failures) and returns unclaimed deliveries to their queues. A claim
   * that returns after this began gives its job back unrun; stop() waits for claims still in
   * flight after the grace period (the store's query timeout bounds them) and for their give-backs,
   * so that the caller may close the store once it resolves.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    await Promise.all(this.#subscriptions.map((s) => s.cancel()));
    const running = this.#loop.running;
    const deadline = Date.now() + this.#graceMs;
    while ((running.size > 0 || this.#loop.pending > 0) && Date.now() < deadline) {
      // Polled as well as awaited: a pending claim has no promise to await here.
      await Promise.race([...[...running.values()].map((r) => r.done), new Promise((resolve) => setTimeout(resolve, 50))]);
    }
    const left = [...running.values()];
    if (left.length > 0) this.#logger.warn({ jobs: left.map((r) => r.job.id) }, 'grace period over; giving running jobs back');
    left.forEach((r) => r.giveBack());
    // Their outcomes, not their after hooks: a hook that hangs must not hold the shutdown.
    await Promise.all(left.map((r) => r.written));
    if (this.#loop.pending > 0) this.#logger.info({ pending: this.#loop.pending }, 'grace period over; waiting for claims in flight to give their jobs back');
    await this.#loop.drained();
    await Promise.all(this.#subscriptions.map((s) => s.close()));
    this.#leases.close();
    // Withdrawn last: while it drains its jobs it is still a worker, and is listed as one.
    await this.#heartbeat?.stop();
    this.#gate.close();
    this.#state = 'stopped';
    this.#logger.info(this.stats() as unknown as Record<string, unknown>, 'worker stopped');
  }
}

/** Validates the options (errors name the option) and creates a worker; call start() to consume. */
export function createWorker(options: WorkerOptions): Worker {
  return new Worker(options);
}
