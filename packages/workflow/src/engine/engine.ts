/**
 * The workflow engine: starts workflow jobs delivered on their queues and steps their runs as
 * children finish, timers come due and other wake-ups arrive. Any number of engines may run on
 * one namespace: a run is stepped under its row lock (SKIP LOCKED), so each step runs in exactly
 * one engine, and all its effects commit with it.
 *
 * Wake-ups: LISTEN `<schema>_workflows` (appended wake-ups, saved units) for latency; a sweep
 * every `sweepMs` and a timer for the next wake time as the safety net (a NOTIFY is only a hint).
 */
import { systemClock, silentLogger, Waker, type Broker, type Clock, type Logger, type WorkerStore, type WorkflowRunStore, type WorkflowUnitRef } from '@drover/core';
import type { Machine } from '../ports.js';
import type { ReloadableTypeChecker } from '../expr/stored-types.js';
import type { HostExtension } from './host.js';
import { Starter } from './starter.js';
import { failWithoutVersion, runStep, type StepOutcome } from './step.js';

/** The sweep: how late a run is stepped when its NOTIFY was lost (the relay's sweep is as long). */
const DEFAULT_SWEEP_MS = 1_000;
/** How often the stored workflows are re-read, besides the NOTIFY a save sends. */
const DEFAULT_REFRESH_MS = 5_000;
/** Steps run at once per engine: each holds a connection for its transaction. */
const DEFAULT_CONCURRENCY = 2;
/** Deliveries in flight per workflow queue: a start is one short transaction. */
const DEFAULT_PREFETCH = 16;
/** The claim's lease before the run takes over: a dead engine's claimed job waits this long. */
const DEFAULT_LEASE_MS = 60_000;
/** How long stop() waits for steps and starts in flight before giving up on them (they roll back). */
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** The pause after a failed step (the database away, a bug): no hot loop on one failing run. */
const DEFAULT_ERROR_BACKOFF_MS = 500;
/** The shortest sleep between looks, so that a small clock skew with the database cannot spin. */
const MIN_SLEEP_MS = 10;
/** How often wake-ups left for ended runs are trimmed. */
const TRIM_EVERY_MS = 60_000;

/** Options of {@link createWorkflowEngine}. */
export interface WorkflowEngineOptions {
  readonly store: WorkflowRunStore & Pick<WorkerStore, 'claim'>;
  readonly broker: Broker;
  readonly machine: Machine;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly sweepMs?: number;
  readonly refreshMs?: number;
  readonly concurrency?: number;
  readonly prefetch?: number;
  readonly leaseMs?: number;
  readonly stopTimeoutMs?: number;
  readonly errorBackoffMs?: number;
  /** Events and locks, plugged into each step's Host. */
  readonly extendHost?: HostExtension;
  /**
   * The type checker the machine (and its evaluator) were built with, when it should know the
   * store's named JSON Schemas: reloaded from `store.jsonSchemas()` before the first workflow is
   * started and whenever units or schemas are saved (the `units` NOTIFY, or the refresh). Without
   * it, the machine checks against whatever schemas it was built with.
   */
  readonly types?: ReloadableTypeChecker;
}

/** What an engine has done since it started. */
export interface WorkflowEngineStats {
  /** Looks for due runs (each drains them): a witness that the engine swept. */
  passes: number;
  started: number;
  /** Advances of the machine committed (a step that found nothing to advance is not one). */
  steps: number;
  completed: number;
  failed: number;
  cancelled: number;
  errors: number;
}

/** A running engine. */
export interface WorkflowEngine {
  /** Starts listening and the loops; resolves without waiting for the broker (queues are consumed as soon as it answers). */
  start(): Promise<void>;
  /** Stops consuming and stepping; waits for work in flight at most `stopTimeoutMs`. */
  stop(): Promise<void>;
  /** Steps due runs now (as a NOTIFY would). */
  wake(): void;
  readonly stats: Readonly<WorkflowEngineStats>;
}

/** Creates a workflow engine; nothing runs before start(). */
export function createWorkflowEngine(options: WorkflowEngineOptions): WorkflowEngine {
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger).child({ component: 'workflow-engine' });
  const sweepMs = positive(options.sweepMs ?? DEFAULT_SWEEP_MS, 'sweepMs');
  const refreshMs = positive(options.refreshMs ?? DEFAULT_REFRESH_MS, 'refreshMs');
  const concurrency = positive(options.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency');
  const stopTimeoutMs = positive(options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS, 'stopTimeoutMs');
  const errorBackoffMs = positive(options.errorBackoffMs ?? DEFAULT_ERROR_BACKOFF_MS, 'errorBackoffMs');
  const { store, machine } = options;
  const deps = { machine, clock, ...(options.extendHost ? { extendHost: options.extendHost } : {}) };
  const stats: WorkflowEngineStats = { passes: 0, started: 0, steps: 0, completed: 0, failed: 0, cancelled: 0, errors: 0 };
  const wakers = Array.from({ length: concurrency }, () => new Waker());
  const refreshWaker = new Waker();
  let running = false;
  let loops: Promise<void>[] = [];
  let listener: { close(): Promise<void> } | null = null;

  const count = (outcome: StepOutcome): void => {
    // An idle step advanced nothing: the run was picked on a wake-up that a step committing just
    // before had already taken (the pick's snapshot still showed it), or one it no longer waits for.
    if (outcome === 'idle') return;
    stats.steps++;
    if (outcome === 'completed' || outcome === 'failed' || outcome === 'cancelled') stats[outcome]++;
  };
  const wakeAll = (): void => wakers.forEach((w) => w.wake());

  const start = async (job: { id: string; grabToken: string; funcname: string }, unit: WorkflowUnitRef): Promise<void> => {
    // The unit named by the queue is the newest version; the store picks the one the job's tag asks for.
    const outcome = await store.startWorkflowRun(
      { jobId: job.id, grabToken: job.grabToken, name: unit.name },
      (tx, run) => runStep(deps, tx, run, []),
      (tx, tag) => failWithoutVersion(tx, job, unit.name, tag),
    );
    if (outcome === null) return;
    stats.started++;
    count(outcome);
    logger.debug({ jobId: job.id, funcname: job.funcname, outcome }, 'workflow started');
  };

  const starter = new Starter({
    store,
    broker: options.broker,
    logger,
    prefetch: positive(options.prefetch ?? DEFAULT_PREFETCH, 'prefetch'),
    leaseMs: positive(options.leaseMs ?? DEFAULT_LEASE_MS, 'leaseMs'),
    start,
  });

  /** Steps due runs until none is left; false when a step failed. */
  const drain = async (): Promise<boolean> => {
    stats.passes++;
    while (running) {
      try {
        const result = await store.stepWorkflowRun((tx, run, wakeups) => runStep(deps, tx, run, wakeups));
        if (!result.stepped) return true;
        count(result.value);
      } catch (err) {
        stats.errors++;
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'a workflow step failed and was rolled back; it will be taken again');
        return false;
      }
    }
    return true;
  };

  /** How long to sleep: the sweep, or less when a run's wake time comes sooner. */
  const sleepFor = async (): Promise<number> => {
    try {
      const next = await store.nextWorkflowWake();
      if (next === null) return sweepMs;
      // At least a few ms: with the database clock a little behind ours, a due time would otherwise spin.
      return Math.max(MIN_SLEEP_MS, Math.min(sweepMs, next.getTime() - clock.now().getTime()));
    } catch {
      return sweepMs;
    }
  };

  const stepLoop = async (waker: Waker): Promise<void> => {
    while (running) {
      const ok = await drain();
      if (!running) break;
      await waker.sleep(ok ? await sleepFor() : errorBackoffMs);
    }
  };

  /** The schemas last loaded into `options.types`, as JSON: a refresh that finds them unchanged compiles nothing. */
  let loadedSchemas: string | null = null;
  const reloadTypes = async (): Promise<void> => {
    if (!options.types) return;
    const schemas = await store.jsonSchemas();
    const text = JSON.stringify(schemas);
    if (text === loadedSchemas) return;
    try {
      options.types.reload(schemas);
    } catch (err) {
      // The checker keeps the schemas it had; the refresh tries again (and logs) until fixed.
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'a stored JSON schema does not compile; keeping the schemas loaded before');
      return;
    }
    loadedSchemas = text;
  };

  const refreshLoop = async (): Promise<void> => {
    let lastTrim = Date.now();
    while (running) {
      try {
        // Types first: a workflow whose queue is consumed must find the schemas its in: names.
        await reloadTypes();
        await starter.refresh();
        if (Date.now() - lastTrim >= TRIM_EVERY_MS) {
          lastTrim = Date.now();
          await store.trimWorkflowWakeups();
          await store.trimJobTags();
        }
      } catch (err) {
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'reading the stored workflows failed; trying again');
      }
      await refreshWaker.sleep(refreshMs);
    }
  };

  return {
    stats,
    wake: wakeAll,
    async start() {
      if (running) return;
      running = true;
      try {
        listener = await store.listenWorkflows((what) => (what === 'units' ? refreshWaker.wake() : wakeAll()));
      } catch (err) {
        logger.info({ err: err instanceof Error ? err.message : String(err) }, 'no LISTEN for workflow wake-ups; the sweep alone steps runs');
      }
      // Consuming the workflows' queues is the refresh loop's first pass, not a condition of the
      // start: with RabbitMQ away the engine still steps runs (their children's outcomes come
      // through PostgreSQL), and starts new workflows once the broker is back.
      loops = [refreshLoop(), ...wakers.map((w) => stepLoop(w))];
    },
    async stop() {
      if (!running) return;
      running = false;
      await starter.stop();
      wakeAll();
      refreshWaker.wake();
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), stopTimeoutMs)));
      const settled = await Promise.race([Promise.allSettled([...loops, ...starter.inFlight]).then(() => 'done' as const), bound]);
      clearTimeout(timer);
      if (settled === 'timeout') logger.warn({ stopTimeoutMs }, 'stopped with steps still in flight; they roll back and are taken again');
      await starter.close();
      await listener?.close();
      listener = null;
    },
  };
}

function positive(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${field}: must be a positive number (is ${value})`);
  return value;
}
