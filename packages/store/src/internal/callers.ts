/**
 * An API caller's operations (JobCenter's create_job / job_done, get_job_status with notify,
 * find_jobs): insert jobs as a client's own and mark them awaited in one transaction, tell whose a
 * job is, mark live jobs awaited, read
 * finished outcomes in one batch, and find job ids by argument containment.
 */
import { ValidationError, toJsonText, validateNewJob, validateNewJobs, validateWorkflowTag, type FindJobIdsOptions, type FinishedOutcome, type FoundJobId, type InsertResult, type Json, type NewJob } from '@drover/core';
import { checkArray, checkId, checkLimit } from './checks.js';
import type { StoreContext } from './context.js';
import { insertAll, recordTag } from './inserts.js';
import { SQL } from './statements.js';

/** The largest page of findJobIds: a bounded read of the history table, as findJobs'. */
const FIND_IDS_MAX = 1000;

function checkIds(ids: readonly string[], field: string): string[] {
  checkArray(ids, field, 'must be an array of job ids');
  return ids.map((id, i) => checkId(id, `${field}[${i}]`));
}

/**
 * Inserts jobs for an API client in one transaction: the new ones are recorded as `who`'s, and with
 * `awaited` every one is marked awaited. Nothing can claim, let alone finish, a job before its mark
 * commits with it, so its finishing is always announced.
 */
export async function insertFor(
  ctx: StoreContext,
  who: string,
  jobs: NewJob | readonly NewJob[],
  options: { awaited?: boolean; workflowTag?: string | null } = {},
): Promise<InsertResult[]> {
  const owner = checkWho(who);
  const tag = validateWorkflowTag(options.workflowTag);
  // One job's problems are named as insert() names them, a batch's as insertMany() does (jobs[i]…).
  const valid = isJobArray(jobs) ? validateNewJobs(jobs, ctx.maxRetriesDefault()) : [validateNewJob(jobs, '', ctx.maxRetriesDefault())];
  if (valid.length === 0) return [];
  return ctx.db.transaction(async (tx) => {
    const results = await insertAll(ctx, tx, valid);
    const created = results.filter((r) => r.inserted).map((r) => r.id);
    if (created.length > 0) await tx.query(SQL.insertOwners, [created, owner]);
    await recordTag(tx, results, tag);
    // A duplicate (same uniqkey or idempotency key) answers the live job's id: it is awaited as well.
    if (options.awaited) await tx.query(SQL.markAwaited, [results.map((r) => r.id)]);
    return results;
  });
}

function isJobArray(jobs: NewJob | readonly NewJob[]): jobs is readonly NewJob[] {
  return Array.isArray(jobs);
}

/** Which of `ids` the API client `who` created. */
export async function ownedBy(ctx: StoreContext, who: string, ids: readonly string[]): Promise<string[]> {
  const owner = checkWho(who);
  const valid = checkIds(ids, 'ids');
  if (valid.length === 0) return [];
  const rows = await ctx.db.query<{ id: string }>(SQL.ownedJobs, [owner, valid]);
  return rows.map((r) => r.id);
}

function checkWho(who: unknown): string {
  if (typeof who !== 'string' || who.length === 0) throw new ValidationError('who', 'must be the name of an API client');
  return who;
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

/** Ids of jobs whose arg contains `filter` (of one client's, with `owner`), newest first. */
export async function findJobIds(ctx: StoreContext, filter: Json, options: FindJobIdsOptions): Promise<FoundJobId[]> {
  const text = toJsonText(filter, 'filter');
  const beforeId = options.beforeId === undefined ? null : checkId(options.beforeId, 'beforeId');
  const limit = checkLimit(options.limit, FIND_IDS_MAX);
  const owner = options.owner === undefined ? null : checkWho(options.owner);
  return ctx.db.query<FoundJobId>(SQL.findJobIds, [text, beforeId, limit, owner]);
}

/**
 * Reads a `<schema>_finished` payload: comma-separated ids (see migration 0007). Anything else is
 * not ours, and yields no ids.
 */
export function parseFinishedPayload(payload: string): string[] {
  if (!/^\d+(,\d+)*$/.test(payload)) return [];
  return payload.split(',');
}
