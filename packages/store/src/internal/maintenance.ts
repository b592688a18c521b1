/**
 * The scheduler's operations: promoting due jobs, taking back expired leases, trimming finished
 * jobs and old idempotency keys, and saying when the next of these falls due. Each works in a
 * bounded batch, so one call never holds many row locks or runs long.
 */
import { backoffDelayMs, type FailResult, type NextDue } from '@drover/core';
import { checkLimit } from './checks.js';
import type { StoreContext } from './context.js';
import { fail } from './outcomes.js';
import { SQL } from './statements.js';

/** Maintenance works in bounded batches so that one call never holds many row locks or runs long. */
export const MAINTENANCE_BATCH = 1000;
/** The largest batch a caller may ask for: a hundred times the default, still one bounded statement. */
const MAINTENANCE_LIMIT_MAX = 100_000;

/** Moves scheduled jobs whose time has come to ready; returns how many. */
export async function promoteDue(ctx: StoreContext, limit: number): Promise<number> {
  const [row] = await ctx.db.query<{ promoted: number }>(SQL.promoteDue, [checkLimit(limit, MAINTENANCE_LIMIT_MAX), ctx.now()]);
  return row?.promoted ?? 0;
}

/** Records a failed attempt (`lease expired`) for running jobs whose lease ended; with `all`, for every running job. */
export async function expireLeases(ctx: StoreContext, limit: number, all: boolean): Promise<FailResult[]> {
  const expired = await ctx.db.query<{ id: string; grab_token: string; failures: number }>(SQL.expiredLeases, [checkLimit(limit, MAINTENANCE_LIMIT_MAX), ctx.now(), all, ctx.restartLookbackMs, ctx.restartGraceMs]);
  if (expired.length === 0) return [];
  return fail(
    ctx,
    expired.map((e) => ({
      id: e.id,
      grabToken: e.grab_token,
      error: 'lease expired',
      retryDelayMs: backoffDelayMs(e.failures + 1, ctx.retryPolicy, ctx.random),
    })),
    !all,
  );
}

/** Deletes finished jobs past their retention; returns how many. */
export async function trimFinished(ctx: StoreContext, limit: number): Promise<number> {
  const [row] = await ctx.db.query<{ trimmed: number }>(SQL.trimFinished, [checkLimit(limit, MAINTENANCE_LIMIT_MAX), ctx.now()]);
  return row?.trimmed ?? 0;
}

/** Deletes idempotency keys past their retention; returns how many. */
export async function trimIdempotencyKeys(ctx: StoreContext, limit: number): Promise<number> {
  const [row] = await ctx.db.query<{ trimmed: number }>(SQL.trimIdempotencyKeys, [checkLimit(limit, MAINTENANCE_LIMIT_MAX), ctx.now()]);
  return row?.trimmed ?? 0;
}

/** When the next scheduled job falls due, the next lease ends and the next trigger fires (null: none). */
export async function nextDue(ctx: StoreContext): Promise<NextDue> {
  const [row] = await ctx.db.query<{ next_due: Date | null; next_lease_end: Date | null; next_trigger_fire: Date | null }>(SQL.nextDue, []);
  return { nextDue: row?.next_due ?? null, nextLeaseEnd: row?.next_lease_end ?? null, nextTriggerFire: row?.next_trigger_fire ?? null };
}
