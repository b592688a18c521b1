/**
 * Claims and the outcome writes fenced by their grab token: complete (with the claims that ride
 * along), heartbeat, fail and decline. A write whose token no longer holds the job is reported
 * as not accepted and changes nothing.
 */
import { ValidationError, toJsonText, validateFuncname, type ClaimOptions, type ClaimedJob, type CompleteAndClaimInput, type DeclineInput, type FailInput, type FailResult, type Grab, type OutcomeResult } from '@drover/core';
import { checkArray, checkDuration, checkGrabs, checkId, checkLease, checkLimit } from './checks.js';
import type { StoreContext } from './context.js';
import type { SqlExecutor } from './executor.js';
import { toClaimedJob, type ClaimedRow } from './rows.js';
import { SQL } from './statements.js';

/** The most jobs one claim statement takes: far more than a worker's prefetch, still a bounded statement. */
const CLAIM_LIMIT_MAX = 10_000;

/** Completes and claims in one statement on `db` (the store's executor, or a transaction's). */
export async function completeAndClaimOn(ctx: StoreContext, db: SqlExecutor, input: CompleteAndClaimInput): Promise<{ completed: OutcomeResult[]; claimed: ClaimedJob[] }> {
  const completions = input.completions ?? [];
  const claims = input.claims ?? [];
  checkArray(completions, 'completions');
  checkArray(claims, 'claims');
  completions.forEach((o, i) => {
    if (o.keepForMs !== undefined) checkDuration(o.keepForMs, `outcomes[${i}].keepForMs`);
  });
  const results = completions.map((o, i) => toJsonText(o.result === undefined ? null : o.result, `outcomes[${i}].result`));
  checkGrabs(completions, 'outcomes');
  claims.forEach((c, i) => {
    checkId(c?.id, `ids[${i}]`);
    checkLease(c);
  });
  const rows = await db.query<ClaimedRow & { kind: 'completed' | 'claimed' }>(SQL.completeAndClaim, [
    completions.map((o) => o.id),
    completions.map((o) => o.grabToken),
    results,
    completions.map((o) => o.keepForMs ?? ctx.retention.completedMs),
    claims.map((c) => c.id),
    claims.map((c) => c.leaseMs),
    ctx.now(),
  ]);
  return {
    completed: accepted(completions, rows.filter((r) => r.kind === 'completed')),
    claimed: rows.filter((r) => r.kind === 'claimed').map(toClaimedJob),
  };
}

/** Claims up to `limit` claimable jobs of a function. */
export async function claimNext(ctx: StoreContext, funcname: string, limit: number, options: ClaimOptions): Promise<ClaimedJob[]> {
  const rows = await ctx.db.query<ClaimedRow>(SQL.claimNext, [validateFuncname(funcname), checkLimit(limit, CLAIM_LIMIT_MAX), checkLease(options), ctx.now()]);
  return rows.map(toClaimedJob);
}

/** Claims up to `limit` claimable jobs of a function that share a coalesce key. */
export async function claimCoalesced(ctx: StoreContext, funcname: string, coalesce: string, limit: number, options: ClaimOptions): Promise<ClaimedJob[]> {
  if (typeof coalesce !== 'string' || coalesce.length === 0) throw new ValidationError('coalesce', 'must be a non-empty string');
  const rows = await ctx.db.query<ClaimedRow>(SQL.claimCoalesced, [validateFuncname(funcname), coalesce, checkLimit(limit, CLAIM_LIMIT_MAX), checkLease(options), ctx.now()]);
  return rows.map(toClaimedJob);
}

/** Extends the leases of the grabs that still hold their jobs. */
export async function heartbeat(ctx: StoreContext, grabs: readonly Grab[], options: ClaimOptions): Promise<OutcomeResult[]> {
  const sorted = checkGrabs(grabs);
  const rows = await ctx.db.query<{ id: string }>(SQL.heartbeat, [sorted.map((g) => g.id), sorted.map((g) => g.grabToken), checkLease(options), ctx.now()]);
  return accepted(grabs, rows);
}

/** Records failed attempts; with `expiredOnly`, only of jobs whose lease has ended (the lease sweep). */
export async function fail(ctx: StoreContext, inputs: readonly FailInput[], expiredOnly: boolean): Promise<FailResult[]> {
  inputs.forEach((f, i) => {
    if (typeof f.error !== 'string') throw new ValidationError(`failures[${i}].error`, 'must be a string');
    checkDuration(f.retryDelayMs, `failures[${i}].retryDelayMs`);
    if (f.keepForMs !== undefined) checkDuration(f.keepForMs, `failures[${i}].keepForMs`);
    if (f.maxRetries !== undefined && (!Number.isInteger(f.maxRetries) || f.maxRetries < 0)) throw new ValidationError(`failures[${i}].maxRetries`, 'must be an integer, 0 or more');
  });
  const sorted = checkGrabs(inputs, 'failures');
  const rows = await ctx.db.query<{ id: string; outcome: 'retry' | 'failed'; failures: number; run_after: Date | null }>(SQL.fail, [
    sorted.map((f) => f.id),
    sorted.map((f) => f.grabToken),
    sorted.map((f) => f.error),
    sorted.map((f) => f.retryDelayMs),
    sorted.map((f) => f.permanent ?? false),
    sorted.map((f) => f.maxRetries ?? null),
    sorted.map((f) => f.keepForMs ?? ctx.retention.failedMs),
    expiredOnly,
    ctx.now(),
  ]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return inputs.map((f) => {
    const row = byId.get(f.id);
    return row
      ? { id: f.id, accepted: true, outcome: row.outcome, failures: row.failures, runAfter: row.run_after }
      : { id: f.id, accepted: false, outcome: null, failures: null, runAfter: null };
  });
}

/** Gives a claimed job back without counting an attempt. */
export async function decline(ctx: StoreContext, input: DeclineInput): Promise<OutcomeResult> {
  checkGrabs([input], 'decline');
  const runAfter = input.runAfter ?? null;
  if (runAfter !== null && !(runAfter instanceof Date && Number.isFinite(runAfter.getTime()))) throw new ValidationError('runAfter', 'must be a valid Date or null');
  const rows = await ctx.db.query<{ id: string }>(SQL.decline, [[input.id], [input.grabToken], [runAfter], ctx.now()]);
  return accepted([input], rows)[0]!;
}

/** Pairs each input with whether the statement returned its id. */
function accepted(inputs: readonly Grab[], rows: readonly { id: string }[]): OutcomeResult[] {
  const ok = new Set(rows.map((r) => r.id));
  return inputs.map((g) => ({ id: g.id, accepted: ok.has(g.id) }));
}
