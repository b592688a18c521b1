/**
 * The job store's logic over any {@link SqlExecutor}: validation, parameter shaping and result
 * mapping around the `.sql` files. One method, one statement (or one transaction), so every
 * guarantee is a property of a statement that the tests exercise against a real database. The
 * operations live in `internal/` by concern (inserts, outcomes, dispatch, maintenance, reads);
 * this class holds the store's settings and delegates.
 */
import {
  DEFAULT_RETRY_POLICY,
  ValidationError,
  validateNewJob,
  validateWorkflowTag,
  type InsertOptions,
  validateNewJobs,
  type Batcher,
  type ClaimOptions,
  type ClaimedJob,
  type Clock,
  type CompleteAndClaimInput,
  type CompleteInput,
  type DeclineInput,
  type DispatchCandidate,
  type DispatchOptions,
  type DispatchResult,
  type FailInput,
  type FailResult,
  type FinishedEvent,
  type FireResult,
  type FinishedOutcome,
  type FoundJobId,
  type Json,
  type FindJobIdsOptions,
  type FindJobsQuery,
  type Grab,
  type InsertResult,
  type Job,
  type JobCount,
  type JobStore,
  type JobWithFailures,
  type LeadOptions,
  type Leadership,
  type ListTriggersQuery,
  type DroverEvent,
  type RaisedEvent,
  type WebhookDelivery,
  type WebhookTarget,
  type NewTrigger,
  type NextDue,
  type NewJob,
  type OutcomeResult,
  type RescheduleWhen,
  type RetryPolicy,
  type Trigger,
  type TriggerJobsQuery,
  type TriggerPatch,
  type ValidJob,
  type NamedJsonSchema,
  type NewWorkflowUnit,
  type StoredWorkflowUnit,
  type WorkflowProgram,
  type WorkflowRun,
  type WorkflowStepTx,
  type WorkflowUnitRef,
  type WorkflowWakeup,
} from '@drover/core';
import * as callers from './internal/callers.js';
import { checkArray, checkDuration, checkLease } from './internal/checks.js';
import type { StoreContext } from './internal/context.js';
import * as dispatching from './internal/dispatch.js';
import type { SqlExecutor } from './internal/executor.js';
import { createInsertBatcher, insertAll, insertTagged, type CoalescedInsert } from './internal/inserts.js';
import * as schemas from './internal/json-schemas.js';
import * as maintenance from './internal/maintenance.js';
import { DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS, DEFAULT_RESTART_GRACE_MS, DEFAULT_RESTART_LOOKBACK_MS, DEFAULT_RETENTION, type Retention, type SqlJobStoreOptions } from './internal/options.js';
import * as outcomes from './internal/outcomes.js';
import * as reads from './internal/reads.js';
import * as events from './internal/events.js';
import * as triggers from './internal/triggers.js';
import * as workflows from './internal/workflows.js';
import { SqlClientStore } from './sql-client-store.js';
import { SqlWorkflowStore } from './sql-workflow-store.js';

export { DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS, DEFAULT_RESTART_GRACE_MS, DEFAULT_RESTART_LOOKBACK_MS, DEFAULT_RETENTION, type Retention, type SqlJobStoreOptions } from './internal/options.js';

/** The job store over a SQL executor: it implements every role port of {@link JobStore}, where each operation's contract is. */
export class SqlJobStore implements JobStore {
  /** The namespace's API clients, on the same executor and clock. */
  readonly clients: SqlClientStore;
  /** Workflow locks and events, on the same executor and clock (the workflow engine's host uses them). */
  readonly workflows: SqlWorkflowStore;
  readonly #ctx: StoreContext;
  readonly #clock: Clock | undefined;
  readonly #defaultMaxRetries: number | undefined;
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #inserter: Batcher<ValidJob, CoalescedInsert> | null;

  constructor(db: SqlExecutor, options: SqlJobStoreOptions = {}) {
    const clock = options.clock;
    const defaultMaxRetries = options.defaultMaxRetries;
    const retention: Retention = { ...DEFAULT_RETENTION, ...options.retention };
    const retryPolicy: RetryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    const random = options.random ?? Math.random;
    const restartGraceMs = checkDuration(options.restartGraceMs ?? DEFAULT_RESTART_GRACE_MS, 'restartGraceMs');
    const restartLookbackMs = checkDuration(options.restartLookbackMs ?? DEFAULT_RESTART_LOOKBACK_MS, 'restartLookbackMs');
    const keyRetentionMs = checkDuration(options.idempotencyKeyRetentionMs ?? DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS, 'idempotencyKeyRetentionMs');
    this.#clock = clock;
    this.#defaultMaxRetries = defaultMaxRetries;
    this.#onClose = options.onClose;
    this.#ctx = {
      db,
      // The store's idea of now: the injected clock, or null to let the database decide.
      now: () => (clock ? clock.now() : null),
      retention,
      retryPolicy,
      random,
      maxRetriesDefault: () => (defaultMaxRetries === undefined ? {} : { maxRetries: defaultMaxRetries }),
      keyRetentionMs,
      restartGraceMs,
      restartLookbackMs,
    };
    this.#inserter = options.batchInserts ? createInsertBatcher(this.#ctx) : null;
    this.clients = new SqlClientStore(db, () => (clock ? clock.now() : null));
    this.workflows = new SqlWorkflowStore(this.#ctx);
  }

  /** The same store, running its statements through another executor (a transaction, a caller's client). */
  withExecutor(db: SqlExecutor): SqlJobStore {
    const ctx = this.#ctx;
    return new SqlJobStore(db, {
      ...(this.#clock ? { clock: this.#clock } : {}),
      retention: ctx.retention,
      retryPolicy: ctx.retryPolicy,
      random: ctx.random,
      idempotencyKeyRetentionMs: ctx.keyRetentionMs,
      restartGraceMs: ctx.restartGraceMs,
      restartLookbackMs: ctx.restartLookbackMs,
      ...(this.#defaultMaxRetries === undefined ? {} : { defaultMaxRetries: this.#defaultMaxRetries }),
    });
  }

  async insert(job: NewJob, options: InsertOptions = {}): Promise<InsertResult> {
    const valid = validateNewJob(job, '', this.#ctx.maxRetriesDefault());
    const tag = validateWorkflowTag(options.workflowTag);
    // A tagged job needs its own transaction (job and tag together): it skips the coalescing.
    if (tag !== null) return insertTagged(this.#ctx, this.#ctx.db, valid, tag);
    if (this.#inserter) {
      const outcome = await this.#inserter.add(valid);
      if ('err' in outcome) throw outcome.err;
      return outcome.ok;
    }
    const [result] = await insertAll(this.#ctx, this.#ctx.db, [valid]);
    return result!;
  }

  async insertMany(jobs: readonly NewJob[]): Promise<InsertResult[]> {
    return insertAll(this.#ctx, this.#ctx.db, validateNewJobs(jobs, this.#ctx.maxRetriesDefault()));
  }

  async claim(ids: readonly string[], options: ClaimOptions): Promise<ClaimedJob[]> {
    checkArray(ids, 'ids', 'must be an array of job ids');
    const leaseMs = checkLease(options);
    return (await this.completeAndClaim({ claims: ids.map((id) => ({ id, leaseMs })) })).claimed;
  }

  async completeAndClaim(input: CompleteAndClaimInput): Promise<{ completed: OutcomeResult[]; claimed: ClaimedJob[] }> {
    return outcomes.completeAndClaimOn(this.#ctx, this.#ctx.db, input);
  }

  async claimNext(funcname: string, limit: number, options: ClaimOptions): Promise<ClaimedJob[]> {
    return outcomes.claimNext(this.#ctx, funcname, limit, options);
  }

  async claimCoalesced(funcname: string, coalesce: string, limit: number, options: ClaimOptions): Promise<ClaimedJob[]> {
    return outcomes.claimCoalesced(this.#ctx, funcname, coalesce, limit, options);
  }

  async heartbeat(grabs: readonly Grab[], options: ClaimOptions): Promise<OutcomeResult[]> {
    return outcomes.heartbeat(this.#ctx, grabs, options);
  }

  async complete(input: CompleteInput): Promise<OutcomeResult> {
    const [result] = await this.completeMany([input]);
    return result!;
  }

  async completeMany(inputs: readonly CompleteInput[]): Promise<OutcomeResult[]> {
    return (await this.completeAndClaim({ completions: inputs })).completed;
  }

  async fail(input: FailInput): Promise<FailResult> {
    const [result] = await this.failMany([input]);
    return result!;
  }

  async failMany(inputs: readonly FailInput[]): Promise<FailResult[]> {
    return outcomes.fail(this.#ctx, inputs, false);
  }

  async permanentFailure(input: Omit<FailInput, 'permanent' | 'retryDelayMs'>): Promise<FailResult> {
    const [result] = await outcomes.fail(this.#ctx, [{ ...input, permanent: true, retryDelayMs: 0 }], false);
    return result!;
  }

  async decline(input: DeclineInput): Promise<OutcomeResult> {
    return outcomes.decline(this.#ctx, input);
  }

  async replaceWith(grab: Grab, jobs: readonly NewJob[], options: { keepForMs?: number } = {}): Promise<{ accepted: boolean; inserted: InsertResult[] }> {
    const ctx = this.#ctx;
    const valid = validateNewJobs(jobs, ctx.maxRetriesDefault());
    const outcome = { ...grab, ...(options.keepForMs === undefined ? {} : { keepForMs: options.keepForMs }) };
    return ctx.db.transaction(async (tx) => {
      // Complete first: a replacement may reuse the original's uniqkey, which the original holds while live.
      const [completed] = (await outcomes.completeAndClaimOn(ctx, tx, { completions: [outcome] })).completed;
      if (!completed!.accepted) return { accepted: false, inserted: [] };
      return { accepted: true, inserted: await insertAll(ctx, tx, valid) };
    });
  }

  async reschedule(id: string, when: RescheduleWhen): Promise<Job | null> {
    return reads.reschedule(this.#ctx, id, when);
  }

  async cancel(id: string): Promise<boolean> {
    return reads.cancel(this.#ctx, id);
  }

  async retry(id: string): Promise<Job | null> {
    return reads.retry(this.#ctx, id);
  }

  async promoteDue(limit = maintenance.MAINTENANCE_BATCH): Promise<number> {
    return maintenance.promoteDue(this.#ctx, limit);
  }

  /** With `all`, every running job is taken back whatever its lease (see PgliteJobStore.recoverAfterRestart). */
  async expireLeases(limit = maintenance.MAINTENANCE_BATCH, options: { all?: boolean } = {}): Promise<FailResult[]> {
    return maintenance.expireLeases(this.#ctx, limit, options.all ?? false);
  }

  /**
   * Gives dispatched jobs back to ready (of the given functions, or all), so that the relay
   * publishes them again: their messages were lost. Returns how many.
   */
  async requeueDispatched(funcnames?: readonly string[]): Promise<number> {
    return dispatching.requeueDispatched(this.#ctx, funcnames);
  }

  async claimableFuncnames(): Promise<string[]> {
    return dispatching.claimableFuncnames(this.#ctx);
  }

  async trimFinished(limit = maintenance.MAINTENANCE_BATCH): Promise<number> {
    return maintenance.trimFinished(this.#ctx, limit);
  }

  /** Deletes idempotency keys past their retention, in a bounded batch; returns how many. */
  async trimIdempotencyKeys(limit = maintenance.MAINTENANCE_BATCH): Promise<number> {
    return maintenance.trimIdempotencyKeys(this.#ctx, limit);
  }

  async dispatch(limit: number, publish: (jobs: DispatchCandidate[]) => Promise<readonly string[] | void>, options: DispatchOptions = {}): Promise<DispatchResult> {
    return dispatching.dispatch(this.#ctx, limit, publish, options);
  }

  /** One process on an embedded store: it always leads. PgJobStore elects among processes. */
  async lead(_name: string, options: LeadOptions = {}): Promise<Leadership> {
    options.onChange?.(true);
    return { leading: true, close: async () => undefined };
  }

  /** A relay announces it is going to sleep (inserts start to NOTIFY), or that it is awake again. */
  async announceSleep(relayId: string, asleep: boolean): Promise<void> {
    return dispatching.announceSleep(this.#ctx, relayId, asleep);
  }

  async nextDue(): Promise<NextDue> {
    return maintenance.nextDue(this.#ctx);
  }

  async fireTriggers(limit = triggers.FIRE_BATCH): Promise<FireResult> {
    return triggers.fireTriggers(this.#ctx, limit);
  }

  async foldTriggerOutcomes(limit = triggers.FOLD_BATCH): Promise<number> {
    return triggers.foldTriggerOutcomes(this.#ctx, limit);
  }

  async createTrigger(input: NewTrigger): Promise<Trigger> {
    return triggers.createTrigger(this.#ctx, input);
  }

  async getTrigger(id: string): Promise<Trigger | null> {
    return triggers.getTrigger(this.#ctx, id);
  }

  async listTriggers(query: ListTriggersQuery = {}): Promise<Trigger[]> {
    return triggers.listTriggers(this.#ctx, query);
  }

  async updateTrigger(id: string, patch: TriggerPatch): Promise<Trigger | null> {
    return triggers.updateTrigger(this.#ctx, id, patch);
  }

  async enableTrigger(id: string, enabled: boolean): Promise<Trigger | null> {
    if (typeof enabled !== 'boolean') throw new ValidationError('enabled', 'must be true or false');
    return triggers.updateTrigger(this.#ctx, id, { enabled });
  }

  async deleteTrigger(id: string): Promise<boolean> {
    return triggers.deleteTrigger(this.#ctx, id);
  }

  async raiseEvent(event: DroverEvent): Promise<RaisedEvent> {
    return events.raiseEvent(this.#ctx, event);
  }

  async webhookTarget(webhookId: string): Promise<WebhookTarget | null> {
    return events.webhookTarget(this.#ctx, webhookId);
  }

  async fireWebhook(webhookId: string, delivery: WebhookDelivery): Promise<{ found: boolean; jobId: string | null }> {
    return events.fireWebhook(this.#ctx, webhookId, delivery);
  }

  async launchTrigger(id: string): Promise<{ jobId: string; inserted: boolean; trigger: Trigger } | null> {
    return triggers.launchTrigger(this.#ctx, id);
  }

  async triggerJobs(id: string, query: TriggerJobsQuery = {}): Promise<Job[]> {
    return triggers.triggerJobs(this.#ctx, id, query);
  }

  /** Needs a connection of its own; adapters that have one override this. */
  async listen(_onWake: (what: 'ready' | 'scheduled') => void): Promise<{ close(): Promise<void> }> {
    throw new Error('this store cannot listen for notifications; poll instead');
  }

  async insertFor(who: string, job: NewJob, options?: { awaited?: boolean; workflowTag?: string | null }): Promise<InsertResult> {
    return (await callers.insertFor(this.#ctx, who, job, options))[0]!;
  }

  async insertManyFor(who: string, jobs: readonly NewJob[]): Promise<InsertResult[]> {
    return callers.insertFor(this.#ctx, who, jobs);
  }

  async ownedBy(who: string, ids: readonly string[]): Promise<string[]> {
    return callers.ownedBy(this.#ctx, who, ids);
  }

  async awaitJobs(ids: readonly string[]): Promise<string[]> {
    return callers.awaitJobs(this.#ctx, ids);
  }

  async finishedOutcomes(ids: readonly string[]): Promise<FinishedOutcome[]> {
    return callers.finishedOutcomes(this.#ctx, ids);
  }

  async findJobIds(filter: Json, options: FindJobIdsOptions): Promise<FoundJobId[]> {
    return callers.findJobIds(this.#ctx, filter, options);
  }

  /** Needs a connection of its own; adapters that have one override this. */
  async listenFinished(_onEvent: (event: FinishedEvent) => void): Promise<{ close(): Promise<void> }> {
    throw new Error('this store cannot listen for finished jobs; poll instead');
  }

  async saveWorkflowUnit(unit: NewWorkflowUnit): Promise<WorkflowUnitRef> {
    return workflows.saveUnit(this.#ctx, unit);
  }

  async saveWorkflowUnits(units: readonly NewWorkflowUnit[], schemas?: readonly NamedJsonSchema[]): Promise<WorkflowUnitRef[]> {
    return workflows.saveUnits(this.#ctx, units, schemas);
  }

  async listWorkflowUnits(tag?: string | null): Promise<StoredWorkflowUnit[]> {
    return workflows.listUnits(this.#ctx, tag);
  }

  async workflowUnit(name: string, tag?: string | null): Promise<StoredWorkflowUnit | null> {
    return workflows.unitByName(this.#ctx, name, tag);
  }

  async workflowUnits(): Promise<WorkflowUnitRef[]> {
    return workflows.units(this.#ctx);
  }

  async workflowProgram(unitId: string): Promise<WorkflowProgram | null> {
    return workflows.program(this.#ctx, unitId);
  }

  async startWorkflowRun<T>(
    start: { readonly jobId: string; readonly grabToken: string; readonly name: string },
    fn: (tx: WorkflowStepTx, run: WorkflowRun) => Promise<T>,
    noVersion: (tx: WorkflowStepTx, tag: string | null) => Promise<T>,
  ): Promise<T | null> {
    return workflows.startRun(this.#ctx, start, fn, noVersion);
  }

  async saveJsonSchema(name: string, schema: Json): Promise<void> {
    return schemas.saveJsonSchema(this.#ctx, name, schema);
  }

  async jsonSchemas(): Promise<{ name: string; schema: Json }[]> {
    return schemas.jsonSchemas(this.#ctx);
  }

  async trimJobTags(): Promise<number> {
    return schemas.trimJobTags(this.#ctx);
  }

  async stepWorkflowRun<T>(fn: (tx: WorkflowStepTx, run: WorkflowRun, wakeups: readonly WorkflowWakeup[]) => Promise<T>): Promise<{ stepped: true; value: T } | { stepped: false }> {
    return workflows.stepRun(this.#ctx, fn);
  }

  async nextWorkflowWake(): Promise<Date | null> {
    return workflows.nextWake(this.#ctx);
  }

  async trimWorkflowWakeups(): Promise<number> {
    return workflows.trimWakeups(this.#ctx);
  }

  async workflowSteps(jobId: string): Promise<{ step: number; at: Date; kind: string; detail: Json }[]> {
    return workflows.steps(this.#ctx, jobId);
  }

  /** Needs a connection of its own; adapters that have one override this. */
  async listenWorkflows(_onWake: (what: 'wake' | 'units') => void): Promise<{ close(): Promise<void> }> {
    throw new Error('this store cannot listen for workflow wake-ups; poll instead');
  }

  async getJob(id: string): Promise<JobWithFailures | null> {
    return reads.getJob(this.#ctx, id);
  }

  async findJobs(query: FindJobsQuery = {}): Promise<Job[]> {
    return reads.findJobs(this.#ctx, query);
  }

  /** Live jobs (not yet finished), from the hot table only: cheap enough to poll. */
  async countLive(): Promise<number> {
    return reads.countLive(this.#ctx);
  }

  async counts(): Promise<JobCount[]> {
    return reads.counts(this.#ctx);
  }

  async close(): Promise<void> {
    await this.#onClose?.();
  }
}
