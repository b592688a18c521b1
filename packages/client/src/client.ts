/**
 * The producer's side of Drover (Garivini's thin client): it writes straight to PostgreSQL, so a
 * job exists once its INSERT commits, and can be enqueued inside the caller's own transaction,
 * atomic with the caller's data.
 */
import type pg from 'pg';
import {
  DroverError,
  ValidationError,
  type AdminStore,
  type DroverEvent,
  type EventStore,
  type RaisedEvent,
  type FindJobsQuery,
  type InsertResult,
  type Job,
  type JobCount,
  type JobWithFailures,
  type Json,
  type NewJob,
  type ProducerStore,
  type RescheduleWhen,
  type ListTriggersQuery,
  type NewTrigger,
  type Trigger,
  type TriggerJobsQuery,
  type TriggerPatch,
  type TriggerStore,
  type InsertOptions,
} from '@drover/core';
import { createPgStore, type PgJobStore } from '@drover/store';
import type { TriggerApi } from './http-api.js';
import { retryEnqueue, withIdempotencyKey, type EnqueueRetryOptions } from './enqueue-retry.js';

/** What the client does with a store: enqueue, read and administer jobs, raise events, and manage triggers. */
export type ClientStore = ProducerStore & AdminStore & Pick<EventStore, 'raiseEvent'> & TriggerStore;

/**
 * A store that can run a producer's inserts on a connection the caller holds (PostgreSQL's
 * `PgJobStore.withClient`): what enqueueing in the caller's transaction needs.
 */
interface CallerClientStore {
  withClient<T>(client: pg.ClientBase, fn: (store: ProducerStore) => Promise<T>): Promise<T>;
}

function onCallerClients(store: ClientStore): store is ClientStore & CallerClientStore {
  return typeof (store as Partial<CallerClientStore>).withClient === 'function';
}

export interface ClientOptions {
  /** A `postgres://` URL; or pass `store` to share one (a PostgreSQL or an embedded store). */
  databaseUrl?: string;
  /** A store to share; the client never closes it. */
  store?: ClientStore;
  namespace?: string;
  /**
   * Retries of an enqueue that failed for a reason that passes (a dropped connection, a database
   * restarting). Each job gets an idempotency key before the first attempt (unless it has one), so
   * a retry of an attempt that did commit returns that job instead of inserting another. `false`:
   * no retries and no generated keys (an enqueue then costs one plain INSERT). Enqueues inside a
   * caller's transaction (`tx`) are never retried: the transaction is the caller's to retry.
   */
  retries?: EnqueueRetryOptions | false;
}

export interface EnqueueOptions {
  /** A client inside the caller's transaction: the job commits or rolls back with it. */
  tx?: pg.ClientBase;
  /**
   * For a workflow job: the version tag it asks for (JobCenter's vtag). It runs the newest version
   * of the workflow carrying the tag, else the newest default (untagged) version.
   */
  tag?: string;
}

/** `call` gave up waiting; the job goes on and can be looked up by `jobId`. */
export class CallTimeoutError extends DroverError {
  override name = 'CallTimeoutError';
  constructor(readonly jobId: string, timeoutMs: number) {
    super(`job ${jobId}: no result within ${timeoutMs} ms (the job goes on; look it up later)`);
  }
}

/** The job `call` waited for failed or was cancelled. */
export class JobFailedError extends DroverError {
  override name = 'JobFailedError';
  constructor(readonly job: JobWithFailures) {
    const last = job.failureLog.at(-1)?.error.split('\n')[0] ?? job.state;
    super(`job ${job.id} ${job.state}: ${last}`);
  }
}

/** Polling for a call's result starts fast for quick jobs and backs off for slow ones. */
const CALL_POLL_MIN_MS = 5;
const CALL_POLL_MAX_MS = 250;
const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/**
 * Waits for a job's result through anything that reads jobs (a store, or the HTTP API's
 * `HttpJobApi`): resolves with the result once it completes; rejects with JobFailedError when it
 * fails for good or is cancelled, and with CallTimeoutError after `timeoutMs` (default 30 s).
 * Polls quick at first for quick jobs, then every 250 ms.
 */
export async function awaitJobResult(reader: Pick<AdminStore, 'getJob'>, id: string, options: { timeoutMs?: number } = {}): Promise<Json> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (let delay = CALL_POLL_MIN_MS; ; delay = Math.min(delay * 2, CALL_POLL_MAX_MS)) {
    const current = await reader.getJob(id);
    if (current?.state === 'completed') return current.result;
    if (current && (current.state === 'failed' || current.state === 'cancelled')) throw new JobFailedError(current);
    if (!current) throw new DroverError(`job ${id} is gone: finished and already trimmed`);
    if (Date.now() + delay > deadline) throw new CallTimeoutError(id, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The client's facade over a store (or a database URL): enqueue, call, reads and admin. */
export class Client implements TriggerApi {
  readonly store: ClientStore;
  /** The store this client made from `databaseUrl`, closed with the client; null when it was given one. */
  readonly #ownStore: PgJobStore | null;
  readonly #retries: EnqueueRetryOptions | false;

  constructor(options: ClientOptions) {
    this.#retries = options.retries ?? {};
    if (options.store) {
      this.store = options.store;
      this.#ownStore = null;
    } else {
      if (!options.databaseUrl) throw new ValidationError('databaseUrl', 'is required when no store is given');
      this.#ownStore = createPgStore({ connectionString: options.databaseUrl, ...(options.namespace ? { namespace: options.namespace } : {}) });
      this.store = this.#ownStore;
    }
  }

  /** Enqueues one job; retried (with one idempotency key for all attempts) unless in the caller's transaction. */
  async enqueue(job: NewJob, options: EnqueueOptions = {}): Promise<InsertResult> {
    const insertOptions: InsertOptions = options.tag === undefined ? {} : { workflowTag: options.tag };
    if (options.tx) return this.#pgStore().withClient(options.tx, (s) => s.insert(job, insertOptions));
    if (this.#retries === false) return this.store.insert(job, insertOptions);
    // The key is made once, here, for the logical enqueue: every attempt below carries it.
    const keyed = withIdempotencyKey(job);
    return retryEnqueue(() => this.store.insert(keyed, insertOptions), this.#retries);
  }

  /** Enqueues a batch in one statement; retried as {@link enqueue} is, each job with its own key. */
  async enqueueMany(jobs: NewJob[], options: EnqueueOptions = {}): Promise<InsertResult[]> {
    if (options.tx) return this.#pgStore().withClient(options.tx, (s) => s.insertMany(jobs));
    if (this.#retries === false || !Array.isArray(jobs)) return this.store.insertMany(jobs);
    const keyed = jobs.map(withIdempotencyKey);
    return retryEnqueue(() => this.store.insertMany(keyed), this.#retries);
  }

  /** Enqueueing in the caller's transaction needs a PostgreSQL store: an embedded one has no caller connections. */
  #pgStore(): CallerClientStore {
    if (!onCallerClients(this.store)) throw new ValidationError('tx', 'needs a PostgreSQL store; an embedded store has no connections of the caller');
    return this.store;
  }

  /**
   * Enqueues a job and waits for its result (JobCenter's `call`). Resolves with the handler's
   * result; rejects with JobFailedError if the job fails for good or is cancelled, and with
   * CallTimeoutError if it has not finished in time. With a uniqkey, it waits for the live job
   * that holds the key.
   */
  async call(job: NewJob, options: { timeoutMs?: number; tag?: string } = {}): Promise<Json> {
    const { id } = await this.enqueue(job, options.tag === undefined ? {} : { tag: options.tag });
    return this.result(id, options);
  }

  /** Waits for an enqueued job's result, as `call` does (polling: quick at first, then every 250 ms). */
  async result(id: string, options: { timeoutMs?: number } = {}): Promise<Json> {
    return awaitJobResult(this.store, id, options);
  }

  getJob(id: string): Promise<JobWithFailures | null> {
    return this.store.getJob(id);
  }

  findJobs(query: FindJobsQuery = {}): Promise<Job[]> {
    return this.store.findJobs(query);
  }

  cancel(id: string): Promise<boolean> {
    return this.store.cancel(id);
  }

  /** Moves a waiting job to `never`, `+N` seconds from now, or a time (Garivini). Null when it is not waiting. */
  reschedule(id: string, when: RescheduleWhen): Promise<Job | null> {
    return this.store.reschedule(id, when);
  }

  retry(id: string): Promise<Job | null> {
    return this.store.retry(id);
  }

  /**
   * Raises an event (`{ type, verb, doc, oldDoc? }`): every enabled `@event` trigger whose selector
   * matches creates its job, or, debounced, schedules it once per window, all in one transaction.
   * An invalid event is a ValidationError naming the field, and writes nothing. Not retried: a
   * raise whose commit was lost cannot be told from one that never ran, and raising twice fires twice.
   */
  raiseEvent(event: DroverEvent): Promise<RaisedEvent> {
    return this.store.raiseEvent(event);
  }

  counts(): Promise<JobCount[]> {
    return this.store.counts();
  }

  /**
   * Stores a trigger (docs/triggers.md): a rule that creates jobs of `funcname` on time, on
   * demand, or on events. Bad input is a ValidationError naming the field, and nothing is written.
   */
  createTrigger(input: NewTrigger): Promise<Trigger> {
    return this.store.createTrigger(input);
  }

  /** Triggers newest first, optionally of one function, a page at a time. */
  listTriggers(query: ListTriggersQuery = {}): Promise<Trigger[]> {
    return this.store.listTriggers(query);
  }

  /** One trigger with its state; null when there is none. */
  getTrigger(id: string): Promise<Trigger | null> {
    return this.store.getTrigger(id);
  }

  /** Changes any of a trigger's fields (`{ enabled: false }` disables it); a new spec or time zone reschedules it. Null when there is none. */
  updateTrigger(id: string, patch: TriggerPatch): Promise<Trigger | null> {
    return this.store.updateTrigger(id, patch);
  }

  /** Enables or disables a trigger; enabling a recurring one schedules it from now. Null when there is none. */
  enableTrigger(id: string, enabled: boolean): Promise<Trigger | null> {
    return this.store.enableTrigger(id, enabled);
  }

  /** Deletes a trigger; the jobs it created run on. False when there is none. */
  deleteTrigger(id: string): Promise<boolean> {
    return this.store.deleteTrigger(id);
  }

  /** Creates one of the trigger's jobs now, whatever its type; its schedule is unchanged. Null when there is none. */
  launchTrigger(id: string): Promise<{ jobId: string; inserted: boolean; trigger: Trigger } | null> {
    return this.store.launchTrigger(id);
  }

  /** The jobs a trigger created, live or finished, newest first. */
  triggerJobs(id: string, query: TriggerJobsQuery = {}): Promise<Job[]> {
    return this.store.triggerJobs(id, query);
  }

  async close(): Promise<void> {
    await this.#ownStore?.close();
  }
}

export function createClient(options: ClientOptions): Client {
  return new Client(options);
}
