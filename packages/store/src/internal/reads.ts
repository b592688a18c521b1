/**
 * A person's operations on jobs, and the reads behind `drover inspect` and `stats`: reschedule,
 * cancel and retry one job; get, find and count jobs.
 */
import { ConflictError, JOB_STATES, ValidationError, toJsonText, validateFuncname, type FindJobsQuery, type Job, type JobCount, type JobWithFailures, type RescheduleWhen } from '@drover/core';
import { checkDuration, checkId, checkLimit } from './checks.js';
import type { StoreContext } from './context.js';
import { toJob, toJobWithFailures, type JobRow, type JobWithFailuresRow } from './rows.js';
import { SQL } from './statements.js';

const UNIQUE_VIOLATION = '23505';
/** A page of findJobs when the caller names none: a screenful or two of `drover inspect`. */
const FIND_DEFAULT_LIMIT = 100;
/** The largest page findJobs returns: a bounded read of the history table. */
const FIND_LIMIT_MAX = 1000;

/** Moves a job's run time: 'never', '+N' seconds from now, or a Date. Returns the job, or null if it is not waiting. */
export async function reschedule(ctx: StoreContext, id: string, when: RescheduleWhen): Promise<Job | null> {
  let runAfter: Date | 'infinity' | null = null;
  let offsetMs = 0;
  if (when === 'never') runAfter = 'infinity';
  else if (when instanceof Date && Number.isFinite(when.getTime())) runAfter = when;
  else if (typeof when === 'string' && /^\+\d+(\.\d+)?$/.test(when)) offsetMs = checkDuration(Math.round(Number(when.slice(1)) * 1000), 'when');
  else throw new ValidationError('when', "must be 'never', '+N' (seconds from now) or a valid Date");
  const rows = await ctx.db.query<JobRow>(SQL.reschedule, [checkId(id), runAfter, offsetMs, ctx.now()]);
  return rows[0] ? toJob(rows[0]) : null;
}

/** Cancels a live job; true if it was cancelled. */
export async function cancel(ctx: StoreContext, id: string): Promise<boolean> {
  const rows = await ctx.db.query(SQL.cancel, [checkId(id), ctx.retention.cancelledMs, ctx.now()]);
  return rows.length > 0;
}

/** Gives a failed or cancelled job another run; a live job holding its uniqkey is a ConflictError. */
export async function retry(ctx: StoreContext, id: string): Promise<Job | null> {
  try {
    const rows = await ctx.db.query<JobRow>(SQL.retry, [checkId(id), ctx.now()]);
    return rows[0] ? toJob(rows[0]) : null;
  } catch (err) {
    if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
      throw new ConflictError(`job ${id}: another live job holds its (funcname, uniqkey); cancel or finish that one first`, { cause: err });
    }
    throw err;
  }
}

/** One job with its failures, live or finished. */
export async function getJob(ctx: StoreContext, id: string): Promise<JobWithFailures | null> {
  const [row] = await ctx.db.query<JobWithFailuresRow>(SQL.getJob, [checkId(id)]);
  return row ? toJobWithFailures(row) : null;
}

/** A page of jobs matching the query, newest first. */
export async function findJobs(ctx: StoreContext, query: FindJobsQuery): Promise<Job[]> {
  const states = query.states ?? null;
  states?.forEach((s, i) => {
    if (!(JOB_STATES as readonly string[]).includes(s)) throw new ValidationError(`states[${i}]`, `must be one of ${JOB_STATES.join(', ')}`);
  });
  const funcname = query.funcname === undefined ? null : validateFuncname(query.funcname);
  const argContains = query.argContains === undefined ? null : toJsonText(query.argContains, 'argContains');
  const beforeId = query.beforeId === undefined ? null : checkId(query.beforeId, 'beforeId');
  const limit = checkLimit(query.limit ?? FIND_DEFAULT_LIMIT, FIND_LIMIT_MAX);
  if (query.owner !== undefined && (typeof query.owner !== 'string' || query.owner === '')) throw new ValidationError('owner', 'must be the name of an API client');
  const rows = await ctx.db.query<JobRow>(SQL.findJobs, [states, funcname, argContains, beforeId, limit, query.owner ?? null]);
  return rows.map(toJob);
}

/** Live jobs (not yet finished), from the hot table only: cheap enough to poll. */
export async function countLive(ctx: StoreContext): Promise<number> {
  const [row] = await ctx.db.query<{ live: number }>(SQL.countLive, []);
  return row?.live ?? 0;
}

/** Jobs per function and state. */
export async function counts(ctx: StoreContext): Promise<JobCount[]> {
  return ctx.db.query<JobCount>(SQL.countJobs, []);
}
