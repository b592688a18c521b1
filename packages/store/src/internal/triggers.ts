/**
 * Triggers in the store: an operator's operations (create, read, update, enable, delete, launch)
 * and the scheduler's (fire due triggers, fold their jobs' outcomes into their state).
 *
 * Firing is exactly once per due time: one transaction locks the due triggers (SKIP LOCKED, so a
 * trigger another scheduler is firing is passed over, never waited for), decides here what each
 * one does (croner's cron arithmetic and the catch-up policy live in core, not in SQL), then inserts
 * the jobs and moves each trigger to its next fire time in one statement. The jobs and the fire
 * commit together; a scheduler that dies before its commit leaves the triggers due, as they were.
 */
import { randomBytes } from 'node:crypto';
import {
  ConflictError,
  ValidationError,
  firstFireAt,
  parseTriggerSpec,
  planFires,
  triggerAsNew,
  validateFuncname,
  validateNewTrigger,
  type CatchUpPolicy,
  type FireResult,
  type Job,
  type Json,
  type ListTriggersQuery,
  type NewTrigger,
  type Trigger,
  type TriggerJobsQuery,
  type TriggerPatch,
  type TriggerSchedule,
  type TriggerType,
  type ValidTrigger,
} from '@drover/core';
import { checkId, checkLimit } from './checks.js';
import type { StoreContext } from './context.js';
import type { SqlExecutor } from './executor.js';
import { toJob, type JobRow } from './rows.js';
import { SQL } from './statements.js';

/** A page of triggers when the caller names none. */
const LIST_DEFAULT_LIMIT = 100;
/** The largest page: a bounded read. */
const LIST_LIMIT_MAX = 1000;
/**
 * Due triggers fired per transaction: their row locks are held until the jobs are inserted, so
 * a batch stays small; with `all`, each may insert up to CATCH_UP_MAX_PER_PASS jobs.
 */
export const FIRE_BATCH = 100;
/** Outcomes folded per statement. */
export const FOLD_BATCH = 1000;

/** The columns every trigger statement returns. */
interface TriggerRow {
  id: string;
  spec: string;
  type: TriggerType;
  args: string;
  time_zone: string;
  funcname: string;
  arg: Json;
  priority: number;
  max_retries: number;
  timeout_ms: number | null;
  uniqkey: string | null;
  debounce_ms: number | null;
  catch_up: CatchUpPolicy;
  enabled: boolean;
  next_fire_at: Date | null;
  fires: string;
  last_fired_at: Date | null;
  last_job_id: string | null;
  last_success_at: Date | null;
  last_success_job_id: string | null;
  last_failure_at: Date | null;
  last_failure_job_id: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  webhook_id: string | null;
  webhook_secret: string | null;
}

function toTrigger(row: TriggerRow): Trigger {
  return {
    id: row.id,
    spec: row.spec,
    type: row.type,
    args: row.args,
    timeZone: row.time_zone,
    funcname: row.funcname,
    arg: row.arg,
    priority: row.priority,
    maxRetries: row.max_retries,
    timeoutMs: row.timeout_ms,
    uniqkey: row.uniqkey,
    debounceMs: row.debounce_ms,
    catchUp: row.catch_up,
    enabled: row.enabled,
    nextFireAt: row.next_fire_at,
    done: (row.type === 'at' || row.type === 'in') && row.next_fire_at === null,
    fires: Number(row.fires),
    lastFiredAt: row.last_fired_at,
    lastJobId: row.last_job_id,
    lastSuccessAt: row.last_success_at,
    lastSuccessJobId: row.last_success_job_id,
    lastFailureAt: row.last_failure_at,
    lastFailureJobId: row.last_failure_job_id,
    lastError: row.last_error,
    webhookId: row.webhook_id,
    webhookSigned: row.webhook_secret !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The time a trigger's first fire is computed from: the store's clock, or this process's when the database keeps time. */
function nowFor(ctx: StoreContext): Date {
  return ctx.now() ?? new Date();
}

/**
 * A new webhook id: 24 random bytes (192 bits) from the system's CSPRNG, base64url, 32 characters.
 * The id is the whole credential of its URL, so it must be unguessable; 192 bits is well past the
 * 128 that make a guess hopeless, and 32 characters still fit a URL comfortably.
 */
function newWebhookId(): string {
  return randomBytes(24).toString('base64url');
}

/** The definition columns of insert-trigger and update-trigger, in their order. */
function definition(t: ValidTrigger, nextFireAt: Date | null): unknown[] {
  return [t.spec, t.type, t.args, t.timeZone, t.job.funcname, t.job.argJson, t.job.priority, t.job.maxRetries, t.job.timeoutMs, t.job.uniqkey, t.debounceMs, t.catchUp, t.enabled, nextFireAt];
}

export async function createTrigger(ctx: StoreContext, input: NewTrigger): Promise<Trigger> {
  const valid = validateNewTrigger(input, ctx.maxRetriesDefault());
  const next = firstFireAt(valid.schedule, valid.timeZone, nowFor(ctx));
  const webhookId = valid.type === 'webhook' ? newWebhookId() : null;
  const [row] = await ctx.db.query<TriggerRow>(SQL.insertTrigger, [...definition(valid, next), ctx.now(), webhookId, valid.webhookSecret]);
  return toTrigger(row!);
}

export async function getTrigger(ctx: StoreContext, id: string): Promise<Trigger | null> {
  const [row] = await ctx.db.query<TriggerRow>(SQL.getTrigger, [checkId(id)]);
  return row ? toTrigger(row) : null;
}

export async function listTriggers(ctx: StoreContext, query: ListTriggersQuery = {}): Promise<Trigger[]> {
  if (typeof query !== 'object' || query === null) throw new ValidationError('query', 'must be an object');
  const funcname = query.funcname === undefined ? null : validateFuncname(query.funcname, 'funcname');
  const beforeId = query.beforeId === undefined ? null : checkId(query.beforeId, 'beforeId');
  const limit = checkLimit(query.limit ?? LIST_DEFAULT_LIMIT, LIST_LIMIT_MAX);
  const rows = await ctx.db.query<TriggerRow>(SQL.listTriggers, [funcname, beforeId, limit]);
  return rows.map(toTrigger);
}

/**
 * Merges a patch into the trigger under its row lock and validates the result as a whole, so an
 * error names the patched field and nothing is written. The fire time is computed again from now
 * when the spec or time zone changed, or when a recurring trigger is enabled (the time it was
 * disabled is not a missed stretch); otherwise it is kept.
 */
export async function updateTrigger(ctx: StoreContext, id: string, patch: TriggerPatch): Promise<Trigger | null> {
  checkId(id);
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new ValidationError('patch', 'must be an object of trigger fields');
  const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as TriggerPatch;
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.query<TriggerRow>(SQL.lockTrigger, [id]);
    if (!row) return null;
    const current = toTrigger(row);
    // The secret goes with the webhook: a patch that makes it another type drops it, unless it sets one (refused then).
    const keepSecret = given.spec === undefined || parseTriggerSpec(given.spec).type === 'webhook';
    const valid = validateNewTrigger({ ...triggerAsNew(current, keepSecret ? row.webhook_secret : null), ...given }, ctx.maxRetriesDefault());
    const rescheduled = valid.spec !== current.spec || valid.timeZone !== current.timeZone;
    const enabling = valid.enabled && !current.enabled && valid.type !== 'at' && valid.type !== 'in';
    const next = rescheduled || enabling ? firstFireAt(valid.schedule, valid.timeZone, nowFor(ctx)) : current.nextFireAt;
    // A webhook keeps its id (its URL) through any change; one that becomes a webhook gets a new id.
    const webhookId = valid.type !== 'webhook' ? null : (current.webhookId ?? newWebhookId());
    const [updated] = await tx.query<TriggerRow>(SQL.updateTrigger, [id, ...definition(valid, next), ctx.now(), webhookId, valid.webhookSecret]);
    return toTrigger(updated!);
  });
}

export async function deleteTrigger(ctx: StoreContext, id: string): Promise<boolean> {
  return (await ctx.db.query(SQL.deleteTrigger, [checkId(id)])).length > 0;
}

/** The jobs a trigger created, live or finished, newest first (they outlive the trigger: a deleted trigger's id still finds them). */
export async function triggerJobs(ctx: StoreContext, id: string, query: TriggerJobsQuery = {}): Promise<Job[]> {
  checkId(id);
  if (typeof query !== 'object' || query === null) throw new ValidationError('query', 'must be an object');
  const beforeId = query.beforeId === undefined ? null : checkId(query.beforeId, 'beforeId');
  const limit = checkLimit(query.limit ?? LIST_DEFAULT_LIMIT, LIST_LIMIT_MAX);
  const rows = await ctx.db.query<JobRow>(SQL.triggerJobs, [id, beforeId, limit]);
  return rows.map(toJob);
}

/** Creates one of the trigger's jobs now; its schedule is unchanged. */
export async function launchTrigger(ctx: StoreContext, id: string): Promise<{ jobId: string; inserted: boolean; trigger: Trigger } | null> {
  checkId(id);
  return ctx.db.transaction(async (tx) => {
    const [launched] = await tx.query<{ found: boolean; job_id: string | null; inserted: boolean }>(SQL.launchTrigger, [id, ctx.now()]);
    if (!launched?.found) return null;
    // Only when the live job holding the trigger's uniqkey finished between the insert and the lookup.
    if (launched.job_id === null) throw new ConflictError(`trigger ${id}: the live job holding its uniqkey finished while this launch looked it up; launch again`);
    const [row] = await tx.query<TriggerRow>(SQL.getTrigger, [id]);
    return { jobId: launched.job_id, inserted: launched.inserted, trigger: toTrigger(row!) };
  });
}

/** A due trigger as lock-due-triggers returns it. */
interface DueRow {
  id: string;
  type: TriggerType;
  args: string;
  time_zone: string;
  catch_up: CatchUpPolicy;
  next_fire_at: Date;
  now: Date;
}

/** The schedule of a stored trigger, from its type and argument (both validated when written). */
function scheduleOf(row: DueRow): TriggerSchedule | null {
  try {
    if (row.type === 'cron') return parseTriggerSpec(`@cron ${row.args}`).schedule;
    if (row.type === 'every') return parseTriggerSpec(`@every ${row.args}`).schedule;
    if (row.type === 'at' || row.type === 'in') return { type: 'at', at: row.next_fire_at };
  } catch {
    // A stored spec this version cannot read (a cron library that grew stricter) stops that
    // trigger rather than every trigger behind it in the pass.
  }
  return null;
}

/**
 * Fires up to `limit` due triggers in one transaction: locks them (skipping those another scheduler
 * holds), plans each by its catch-up policy, then inserts the jobs and moves the triggers on.
 */
export async function fireTriggers(ctx: StoreContext, limit: number): Promise<FireResult> {
  checkLimit(limit, LIST_LIMIT_MAX);
  return ctx.db.transaction(async (tx: SqlExecutor) => {
    const due = await tx.query<DueRow>(SQL.lockDueTriggers, [limit, ctx.now()]);
    if (due.length === 0) return { triggers: 0, jobs: 0 };
    const ids: string[] = [];
    const nexts: (Date | null)[] = [];
    const lastTicks: (Date | null)[] = [];
    const jobTriggers: string[] = [];
    const jobTicks: Date[] = [];
    for (const row of due) {
      const schedule = scheduleOf(row);
      const plan = schedule ? planFires(schedule, row.time_zone, row.catch_up, row.next_fire_at, row.now) : { fire: [], next: null };
      ids.push(row.id);
      nexts.push(plan.next);
      lastTicks.push(plan.fire.at(-1) ?? null);
      for (const tick of plan.fire) {
        jobTriggers.push(row.id);
        jobTicks.push(tick);
      }
    }
    const [result] = await tx.query<FireResult>(SQL.fireTriggers, [ids, nexts, lastTicks, jobTriggers, jobTicks, ctx.now()]);
    return result ?? { triggers: 0, jobs: 0 };
  });
}

/** Folds up to `limit` finished outcomes of triggered jobs into their triggers' state; returns how many. */
export async function foldTriggerOutcomes(ctx: StoreContext, limit: number): Promise<number> {
  const [row] = await ctx.db.query<{ folded: number }>(SQL.foldTriggerOutcomes, [checkLimit(limit, 100_000)]);
  return row?.folded ?? 0;
}
