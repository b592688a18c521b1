/**
 * The job store's ports: what the rest of Drover needs from a job store, one port per role
 * (producer, worker, relay, scheduler, admin, election, wake-ups, callers, triggers); `JobStore` is their
 * union. Adapters live in their own packages (`@drover/store` for PostgreSQL, `@drover/store-pglite`
 * for embedded PGlite), which pass one conformance suite. The broker's port is in broker-port.ts,
 * the API clients' in client-ports.ts.
 */
import type { ClaimedJob, Job, JobState, JobWithFailures, Json, NewJob } from './job.js';
import type { DroverEvent } from './event.js';
import type { NewTrigger, Trigger, TriggerPatch } from './trigger.js';
import type { WorkflowEventStore, WorkflowLockStore } from './workflow-ports.js';
import type { WorkflowRunStore, WorkflowUnitStore } from './workflow-run-ports.js';

/** What an insert did for one job. */
export interface InsertResult {
  id: string;
  /** False when a live job with the same (funcname, uniqkey), or a job enqueued with the same idempotency key, already existed; `id` is then that job's. */
  inserted: boolean;
}

/** Whether an outcome write took effect. A refused write changed nothing: the writer lost the lease. */
export interface OutcomeResult {
  id: string;
  accepted: boolean;
}

/** What a failed attempt led to. */
export interface FailResult extends OutcomeResult {
  /** `retry`: backed off until `runAfter`; `failed`: retries spent, or a permanent failure. Null when refused. */
  outcome: 'retry' | 'failed' | null;
  failures: number | null;
  runAfter: Date | null;
}

/** Identifies a claimed job and the claim: every outcome write carries both. */
export interface Grab {
  id: string;
  grabToken: string;
}

export interface CompleteInput extends Grab {
  result?: unknown;
  /** How long to keep the exit status, in ms (per function). */
  keepForMs?: number;
}

/** A worker's round trip: what it finished and what it was sent (see {@link WorkerStore.completeAndClaim}). */
export interface CompleteAndClaimInput {
  completions?: readonly CompleteInput[];
  /** Jobs to claim, each with its lease length in ms. */
  claims?: readonly ({ id: string } & ClaimOptions)[];
}

export interface FailInput extends Grab {
  error: string;
  /** Fail for good regardless of retries left. */
  permanent?: boolean;
  /** Delay before the retry, in ms; the caller computes it from its retry policy and the job's failure count. */
  retryDelayMs: number;
  /** Overrides the job's own max retries (a function's configuration). */
  maxRetries?: number;
  /** How long to keep the exit status if the job fails for good, in ms. */
  keepForMs?: number;
}

export interface DeclineInput extends Grab {
  /** Not before this time; null makes the job ready at once. */
  runAfter?: Date | null;
}

/** When a rescheduled job may run: `never`, `+N` seconds from now, or an absolute time (Garivini). */
export type RescheduleWhen = 'never' | `+${number}` | Date;

/** Filters for {@link AdminStore.findJobs}; every filter is optional and they combine with AND. */
export interface FindJobsQuery {
  states?: JobState[];
  funcname?: string;
  /** Jobs whose argument contains this JSON (PostgreSQL `@>`), as JobCenter's find_jobs. */
  argContains?: Json;
  /** Keyset pagination: only jobs with a smaller id (results are newest first). */
  beforeId?: string;
  /** At most this many; defaults to 100, at most 1000. */
  limit?: number;
  /** Only the jobs this API client created (see {@link CallerStore.insertFor}); set by the API, never taken from a request. */
  owner?: string;
}

/** One row of {@link AdminStore.counts}. */
export interface JobCount {
  funcname: string;
  state: JobState;
  count: number;
}

/** A job the relay is about to publish. */
export interface DispatchCandidate {
  id: string;
  funcname: string;
  priority: number;
  /** `dispatched` when this is a re-publish of a message that seems lost. */
  state: 'ready' | 'dispatched';
}

/** Options of {@link RelayStore.dispatch}. */
export interface DispatchOptions {
  /** Also read dispatched jobs unclaimed this long, ms: their message may be lost. */
  staleMs?: number;
  /**
   * Dispatched jobs a function may have (published, not yet claimed): a function at its bound gets
   * no more ready jobs read, so its backlog stays in the store. Unset: no bound.
   */
  maxInBrokerPerFunction?: number;
}

/** What one relay step did. */
export interface DispatchResult {
  /** Jobs published for the first time. */
  published: number;
  /** Dispatched jobs published again because their message went unclaimed. */
  republished: number;
  /** Jobs marked dispatched: those read that no one changed or held meanwhile. */
  marked: number;
}

/** This process's part in a leader election; see {@link Election.lead}. */
export interface Leadership {
  /** Whether this process leads now. */
  readonly leading: boolean;
  /** Steps down (if leading) and stops taking part. */
  close(): Promise<void>;
}

/** Options of {@link Election.lead}. */
export interface LeadOptions {
  onChange?: (leading: boolean) => void;
  /** How often a follower tries to take the lead (and a leader checks it still holds it), ms. */
  retryMs?: number;
}

/** Options of a claim. */
export interface ClaimOptions {
  /** Lease length in ms: the job is taken back if no outcome or heartbeat arrives before it ends. */
  leaseMs: number;
}

/*
 * The job store, split by role: each port holds what one part of Drover may do to jobs, so a
 * reader of a role's port sees all that role may do, and a component typed by its roles cannot
 * reach past them (a worker cannot cancel, the API cannot claim). Every operation is one statement
 * or one transaction. Outcome writes are fenced by the grab token and report whether they took
 * effect. An adapter implements {@link JobStore}, the union, and passes one conformance suite
 * (packages/store/test, on PostgreSQL and on PGlite).
 */

/** How one job is inserted, besides the job itself. */
export interface InsertOptions {
  /**
   * For a workflow job: the version tag it asks for (JobCenter's vtag). It runs the newest version
   * carrying the tag, else the newest default version. Written with the job, in its transaction;
   * a duplicate (uniqkey, idempotency key) keeps the tag of the job it returns.
   */
  workflowTag?: string | null;
}

/** A producer's part: enqueue jobs. */
export interface ProducerStore {
  /** Inserts one job; a duplicate (its uniqkey live, or its idempotency key known) returns the existing job's id instead. */
  insert(job: NewJob, options?: InsertOptions): Promise<InsertResult>;
  /** Inserts a batch atomically, duplicates resolved as in {@link ProducerStore.insert}; one result per job, in order. */
  insertMany(jobs: readonly NewJob[]): Promise<InsertResult[]>;
}

/** A worker's part: claim jobs, keep their leases, and write their outcomes, each fenced by the claim's grab token. */
export interface WorkerStore {
  /** Claims the given jobs where still claimable; the result holds only the ones claimed, each with a fresh grab token. */
  claim(ids: readonly string[], options: ClaimOptions): Promise<ClaimedJob[]>;
  /** Claims up to `limit` ready jobs of a function, highest priority first. */
  claimNext(funcname: string, limit: number, options: ClaimOptions): Promise<ClaimedJob[]>;
  /** Claims up to `limit` more ready jobs of a function that share a coalesce value (TheSchwartz). */
  claimCoalesced(funcname: string, coalesce: string, limit: number, options: ClaimOptions): Promise<ClaimedJob[]>;
  /** Extends leases. */
  heartbeat(grabs: readonly Grab[], options: ClaimOptions): Promise<OutcomeResult[]>;

  complete(input: CompleteInput): Promise<OutcomeResult>;
  completeMany(inputs: readonly CompleteInput[]): Promise<OutcomeResult[]>;
  /**
   * Completes and claims in one statement and one commit: a worker's usual round trip. Each
   * completion is fenced as in {@link WorkerStore.complete}, each claim is as in {@link WorkerStore.claim};
   * `claimed` holds only the jobs claimed.
   */
  completeAndClaim(input: CompleteAndClaimInput): Promise<{ completed: OutcomeResult[]; claimed: ClaimedJob[] }>;
  fail(input: FailInput): Promise<FailResult>;
  failMany(inputs: readonly FailInput[]): Promise<FailResult[]>;
  /** Fails the job for good, whatever its retries. */
  permanentFailure(input: Omit<FailInput, 'permanent' | 'retryDelayMs'>): Promise<FailResult>;
  /** Gives the job back without counting a failure. */
  decline(input: DeclineInput): Promise<OutcomeResult>;
  /** Completes the job and inserts its replacements atomically: all of it happens, or none. */
  replaceWith(grab: Grab, jobs: readonly NewJob[], options?: { keepForMs?: number }): Promise<{ accepted: boolean; inserted: InsertResult[] }>;
}

/** The outbox relay's part: move ready jobs to the broker, and recover from lost messages. */
export interface RelayStore {
  /**
   * The relay's step: read up to about `limit` ready jobs, shared fairly among functions and at most
   * `maxInBrokerPerFunction` dispatched per function (and, with `staleMs`, dispatched jobs unclaimed
   * for that long, oldest first, shared among functions), hand them to `publish`, and mark them
   * dispatched only once it resolved: all of them, or only the ids it returns. No row is locked
   * meanwhile, so one relay should run it at a time (see {@link Election.lead}); the mark skips any
   * job that changed since it was read. If publish throws, nothing is marked.
   */
  dispatch(limit: number, publish: (jobs: DispatchCandidate[]) => Promise<readonly string[] | void>, options?: DispatchOptions): Promise<DispatchResult>;
  /** Gives dispatched jobs back to ready (of these functions, or of all): their messages were lost. Returns how many. */
  requeueDispatched(funcnames?: readonly string[]): Promise<number>;
  /** Functions with jobs waiting for a worker (ready or dispatched). */
  claimableFuncnames(): Promise<string[]>;
  /** A relay announces it is about to sleep (inserts then NOTIFY it), or that it is awake again. */
  announceSleep(relayId: string, asleep: boolean): Promise<void>;
}

/** The scheduler's part: time and housekeeping. Every operation is safe to run from several schedulers at once. */
export interface SchedulerStore {
  /** Promotes scheduled jobs that are due to ready; returns how many. */
  promoteDue(limit?: number): Promise<number>;
  /** Takes back jobs whose lease ended, counting a failed attempt (`lease expired`). Returns what happened to each. */
  expireLeases(limit?: number): Promise<FailResult[]>;
  /** Deletes finished jobs (and their failure logs) past their retention; returns how many. */
  trimFinished(limit?: number): Promise<number>;
  /** Deletes idempotency keys past their retention (a later insert with one creates a new job); returns how many. */
  trimIdempotencyKeys(limit?: number): Promise<number>;
  /**
   * Fires due triggers, up to `limit` of them: for each, the jobs its catch-up policy makes and its
   * next fire time commit in one transaction, and a trigger another scheduler is firing is skipped,
   * so each due time fires exactly once whatever number of schedulers run.
   */
  fireTriggers(limit?: number): Promise<FireResult>;
  /** Folds the outcomes of triggered jobs that finished into their triggers' state (last success, last failure); returns how many. */
  foldTriggerOutcomes(limit?: number): Promise<number>;
  /** When the scheduler next has work to do: a scheduled job due, a lease ending, a trigger firing. */
  nextDue(): Promise<NextDue>;
}

/** What {@link SchedulerStore.nextDue} reports; each null when there is none. */
export interface NextDue {
  nextDue: Date | null;
  nextLeaseEnd: Date | null;
  nextTriggerFire: Date | null;
}

/** What one {@link SchedulerStore.fireTriggers} call did. */
export interface FireResult {
  /** Due triggers handled (fired, or advanced past missed ticks by their policy). */
  triggers: number;
  /** Jobs created. */
  jobs: number;
}

/** Filters for {@link TriggerStore.listTriggers}. */
export interface ListTriggersQuery {
  funcname?: string;
  /** Keyset pagination: only triggers with a smaller id (results are newest first). */
  beforeId?: string;
  /** At most this many; defaults to 100, at most 1000. */
  limit?: number;
}

/** Paging of {@link TriggerStore.triggerJobs}. */
export interface TriggerJobsQuery {
  /** Keyset pagination: only jobs with a smaller id (results are newest first). */
  beforeId?: string;
  /** At most this many; defaults to 100, at most 1000. */
  limit?: number;
}

/**
 * An operator's part over triggers: create, read, change, enable, delete, and launch one now.
 * Firing on time is the scheduler's ({@link SchedulerStore.fireTriggers}).
 */
export interface TriggerStore {
  /** Validates and stores a trigger, its first fire time computed from now; nothing is written when a field is bad. */
  createTrigger(input: NewTrigger): Promise<Trigger>;
  /** One trigger with its state; null when no such trigger. */
  getTrigger(id: string): Promise<Trigger | null>;
  /** A page of triggers, newest first. */
  listTriggers(query?: ListTriggersQuery): Promise<Trigger[]>;
  /** Applies a patch; a new spec or time zone reschedules it from now. Null when no such trigger. */
  updateTrigger(id: string, patch: TriggerPatch): Promise<Trigger | null>;
  /** Enables or disables it; enabling a recurring trigger reschedules it from now (a disabled stretch is not missed). Null when no such trigger. */
  enableTrigger(id: string, enabled: boolean): Promise<Trigger | null>;
  /** Deletes it; its live jobs run on. False when no such trigger. */
  deleteTrigger(id: string): Promise<boolean>;
  /**
   * Creates one of its jobs now, whatever its type and whether enabled; its schedule is unchanged.
   * `inserted` is false when the live job holding its uniqkey was returned instead. Null when no such trigger.
   */
  launchTrigger(id: string): Promise<{ jobId: string; inserted: boolean; trigger: Trigger } | null>;
  /** The jobs it created (fired or launched), live or finished, newest first; empty for an unknown id. */
  triggerJobs(id: string, query?: TriggerJobsQuery): Promise<Job[]>;
}

/** What {@link EventStore.raiseEvent} did. */
export interface RaisedEvent {
  /** The enabled `@event` triggers whose selector matched. */
  matched: number;
  /**
   * The jobs created, one per matched trigger, except a debounced trigger inside its window and a
   * trigger whose uniqkey's job is still live, which create none.
   */
  jobIds: string[];
}

/** A `@webhook` trigger as a POST to its URL needs it: whether it is enabled, and its secret. */
export interface WebhookTarget {
  triggerId: string;
  enabled: boolean;
  /** The shared secret that signs its requests; null when it checks none. */
  secret: string | null;
}

/** What a webhook received, as its job's `arg.webhook` carries it. */
export interface WebhookDelivery {
  /** The request's Content-Type, as sent ('' when none). */
  contentType: string;
  /** The body: parsed when it is JSON, else its text (UTF-8). */
  body: unknown;
}

/**
 * Events and webhooks, the two ways a trigger fires on something other than time. Each fire
 * creates its jobs in one transaction: all of them or none.
 */
export interface EventStore {
  /**
   * Raises an event: every enabled `@event` trigger whose selector matches creates its job (or,
   * debounced, schedules it once per window), all in one transaction. Nothing is written for an
   * invalid event, whose error names the field.
   */
  raiseEvent(event: DroverEvent): Promise<RaisedEvent>;
  /** The `@webhook` trigger a webhook id names; null when none does. */
  webhookTarget(webhookId: string): Promise<WebhookTarget | null>;
  /**
   * Fires the `@webhook` trigger of this id with what it received, if it is (still) enabled: one
   * job, or none while debounced. `found` is false when no enabled webhook has that id.
   */
  fireWebhook(webhookId: string, delivery: WebhookDelivery): Promise<{ found: boolean; jobId: string | null }>;
}

/** An operator's part: read jobs, and move, cancel or retry one. */
export interface AdminStore {
  /** Moves a live job that is not running to a new time. Null when no such job. */
  reschedule(id: string, when: RescheduleWhen): Promise<Job | null>;
  /** Cancels a live job (a running one too: its worker's outcome will be refused). False when not live. */
  cancel(id: string): Promise<boolean>;
  /** Puts a failed or cancelled job back to ready with its failure count reset. Null when no such job. */
  retry(id: string): Promise<Job | null>;

  /** One job, live or finished, with its failure log. Null when no such job (a finished one may have been trimmed). */
  getJob(id: string): Promise<JobWithFailures | null>;
  /** A page of jobs, live or finished, matching the query, newest first. */
  findJobs(query?: FindJobsQuery): Promise<Job[]>;
  /** How many jobs each function has in each state. */
  counts(): Promise<JobCount[]>;
}

/** Leader election among the processes that share a store. */
export interface Election {
  /**
   * Takes part in electing one leader for `name` among every process on this store; `onChange`
   * hears when this process starts or stops leading, and a follower tries to take over every
   * `retryMs`. Leadership is an efficiency, not a safety measure: two leaders for a moment only
   * publish duplicate messages.
   */
  lead(name: string, options?: LeadOptions): Promise<Leadership>;
}

/** Wake-ups from the store (LISTEN/NOTIFY on PostgreSQL). */
export interface WakeSource {
  /**
   * Calls `onWake` when jobs became ready (`ready`) or were scheduled (`scheduled`). Only a latency
   * hint: notifications can be lost across reconnects, so callers also poll.
   */
  listen(onWake: (what: 'ready' | 'scheduled') => void): Promise<{ close(): Promise<void> }>;
}

/** A finished job's outcome, as a caller waiting on it is told (see {@link CallerStore}). */
export interface FinishedOutcome {
  id: string;
  state: 'completed' | 'failed' | 'cancelled';
  /** The handler's result (null unless completed). */
  result: Json;
  /** The last failure's message, null when the job never failed. */
  error: string | null;
}

/**
 * What {@link CallerStore.listenFinished} reports: awaited jobs that finished, or that the
 * listening session was (re)established, after which anything may have finished unheard.
 */
export type FinishedEvent = { kind: 'finished'; ids: string[] } | { kind: 'connected' };

/** One id found by {@link CallerStore.findJobIds}, with its function (what decides who may see it). */
export interface FoundJobId {
  id: string;
  funcname: string;
}

/** Options of {@link CallerStore.findJobIds}. */
export interface FindJobIdsOptions {
  /** Keyset pagination: only jobs with a smaller id. */
  beforeId?: string;
  /** At most this many, 1 to 1000. */
  limit: number;
  /** Only the jobs this API client created. */
  owner?: string;
}

/**
 * The API's callers. Jobs inserted for an API client are its own (a client without admin acts only
 * on those). A caller that waits for its jobs (JobCenter's create_job / job_done, get_job_status
 * with notify) marks the jobs it waits for, hears when marked jobs finish, and reads their outcomes. Only
 * marked jobs are announced, once per statement that finishes them, so jobs nobody waits for cost
 * nothing. Announcements are wake-ups and may be lost across reconnects: on `connected`, read the
 * outcomes of everything awaited once.
 */
export interface CallerStore {
  /**
   * Inserts one job (validated as {@link ProducerStore.insert} does) as the API client `who`'s own,
   * and with `awaited` marks it awaited, in one transaction.
   */
  insertFor(who: string, job: NewJob, options?: { awaited?: boolean; workflowTag?: string | null }): Promise<InsertResult>;
  /** Inserts a batch atomically (validated as {@link ProducerStore.insertMany} does) as the API client `who`'s own. */
  insertManyFor(who: string, jobs: readonly NewJob[]): Promise<InsertResult[]>;
  /** Which of `ids` the API client `who` created (through insertFor or insertManyFor). */
  ownedBy(who: string, ids: readonly string[]): Promise<string[]>;
  /** Marks live jobs awaited; returns the ids that are live. A job missing from the answer has finished (or never existed). */
  awaitJobs(ids: readonly string[]): Promise<string[]>;
  /** The outcomes of those of `ids` that have finished. */
  finishedOutcomes(ids: readonly string[]): Promise<FinishedOutcome[]>;
  /** Ids of jobs, live or finished, whose arg contains `filter` (`@>`), newest first. */
  findJobIds(filter: Json, options: FindJobIdsOptions): Promise<FoundJobId[]>;
  /** Calls `onEvent` when awaited jobs finish, and each time the listening session (re)connects. */
  listenFinished(onEvent: (event: FinishedEvent) => void): Promise<{ close(): Promise<void> }>;
}

/**
 * A workflow runtime's part: its locks and events (the workflow engine's host, on the step's
 * transaction through `withExecutor`; check_if_lock_exists reads the locks).
 */
export interface WorkflowStore {
  readonly workflows: WorkflowLockStore & WorkflowEventStore;
}

/**
 * The whole job store: every role's port, and `close()`. Adapters implement this one interface;
 * components take only the roles they use (a worker a {@link WorkerStore}, the relay a
 * `RelayStore & Election & WakeSource`), and only a composition root holds a `JobStore`.
 */
export interface JobStore extends ProducerStore, WorkerStore, RelayStore, SchedulerStore, AdminStore, Election, WakeSource, CallerStore, TriggerStore, EventStore, WorkflowStore, WorkflowRunStore, WorkflowUnitStore {
  /** Closes what the store owns (its pool, its embedded database); the store is unusable afterwards. */
  close(): Promise<void>;
}
