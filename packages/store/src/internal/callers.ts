/**
 * A waiting caller's operations (JobCenter's create_job / job_done, get_job_status with notify,
 * find_jobs): insert a job and mark it awaited in one transaction, mark live jobs awaited, read
 * finished outcomes in one batch, and find job ids by argument containment.
 */
import { toJsonText, validateNewJob, type FinishedOutcome, type FoundJobId, type InsertResult, type Json, type NewJob } from '@drover/core';
import { checkArray, checkId, checkLimit } from './checks.js';
import type { StoreContext } from './context.js';
import { insertAll } from './inserts.js';
import { SQL } from './statements.js';

/** The largest page of findJobIds: a bounded read of the history table, as findJobs'. */
const FIND_IDS_MAX = 1000;

function checkIds(ids: readonly string[], field: string): string[] {
  checkArray(ids, field, 'must be an array of job ids');
  return ids.map((id, i) => checkId(id, `${field}[${i}]`));
}

/**
 * Inserts a job and marks it awaited in one transaction: nothing can claim, let alone finish, the
 * job before the mark commits with it, so its finishing is always announced.
 */
export async function insertAwaited(ctx: StoreContext, job: NewJob): Promise<InsertResult> {
  const valid = validateNewJob(job, '', ctx.maxRetriesDefault());
  return ctx.db.transaction(async (tx) => {
    const [result] = await insertAll(ctx, tx, [valid]);
    // A duplicate (same uniqkey or idempotency key) answers the live job's id: it is awaited as well.
    await tx.query(SQL.markAwaited, [[result!.id]]);
    return result!;
  });
}

/** Marks live jobs awaited; returns the live ones. */
export async function awaitJobs(ctx: StoreContext, ids: readonly string[]): Promise<string[]> {
  const valid = checkIds(ids, 'ids');
  if (valid.length === 0) return [];
  const rows = await ctx.db.query<{ id: string }>(SQL.awaitJobs, [valid]);
  return rows.map((r) => r.id);
}

/** The outcomes of the finished ones among `ids`. */
export async function finishedOutcomes(ctx: StoreContext, ids: readonly string[]): Promise<FinishedOutcome[]> {
  const valid = checkIds(ids, 'ids');
  if (valid.length === 0) return [];
  return ctx.db.query<FinishedOutcome>(SQL.finishedOutcomes, [valid]);
}

/** Ids of jobs whose arg contains `filter`, newest first. */
export async function findJobIds(ctx: StoreContext, filter: Json, options: { beforeId?: string; limit: number }): Promise<FoundJobId[]> {
  const text = toJsonText(filter, 'filter');
  const beforeId = options.beforeId === undefined ? null : checkId(options.beforeId, 'beforeId');
  const limit = checkLimit(options.limit, FIND_IDS_MAX);
  return ctx.db.query<FoundJobId>(SQL.findJobIds, [text, beforeId, limit]);
}

/**
 * Reads a `<schema>_finished` payload: comma-separated ids (see migration 0007). Anything else is
 * not ours, and yields no ids.
 */
export function parseFinishedPayload(payload: string): string[] {
  if (!/^\d+(,\d+)*$/.test(payload)) return [];
  return payload.split(',');
}
