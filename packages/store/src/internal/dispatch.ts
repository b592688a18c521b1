/**
 * The relay's side of the store: choosing jobs to publish and marking them dispatched, giving
 * dispatched jobs back when their messages were lost, and a relay announcing its sleep.
 */
import { ValidationError, validateFuncname, type DispatchCandidate, type DispatchOptions, type DispatchResult } from '@drover/core';
import { checkLimit } from './checks.js';
import type { StoreContext } from './context.js';
import { SQL } from './statements.js';

/** The most jobs one dispatch round reads: a bounded statement, far past a relay's useful round. */
const DISPATCH_LIMIT_MAX = 10_000;
/** A function's bound in the broker is a count the relay's read stops at; a million is far past any useful bound. */
const MAX_IN_BROKER_LIMIT = 1_000_000;
/** Jobs given back per statement: one call never holds many row locks or runs long. */
const REQUEUE_BATCH = 1000;
/** Ten million jobs in batches: more than any backlog a queue should hold, and still a bound. */
const REQUEUE_ROUNDS_MAX = 10_000;

/** One dispatch round; see RelayStore.dispatch. */
export async function dispatch(ctx: StoreContext, limit: number, publish: (jobs: DispatchCandidate[]) => Promise<readonly string[] | void>, options: DispatchOptions): Promise<DispatchResult> {
  checkLimit(limit, DISPATCH_LIMIT_MAX);
  const staleMs = options.staleMs ?? null;
  if (staleMs !== null && (!Number.isInteger(staleMs) || staleMs < 0)) throw new ValidationError('staleMs', 'must be a whole number of milliseconds, 0 or more');
  const maxInBroker = options.maxInBrokerPerFunction ?? null;
  if (maxInBroker !== null && (!Number.isInteger(maxInBroker) || maxInBroker < 1 || maxInBroker > MAX_IN_BROKER_LIMIT)) {
    throw new ValidationError('maxInBrokerPerFunction', `must be a whole number from 1 to ${MAX_IN_BROKER_LIMIT}`);
  }
  const now = ctx.now();
  const ready = await ctx.db.query<DispatchCandidate & { version: string }>(SQL.selectReady, [limit, maxInBroker]);
  const stale = staleMs === null ? [] : await ctx.db.query<DispatchCandidate & { version: string }>(SQL.selectStale, [limit, staleMs, now]);
  const jobs = [...ready, ...stale];
  if (jobs.length === 0) return { published: 0, republished: 0, marked: 0 };
  // No lock is held while the broker confirms: a worker that gets a message first claims the
  // job straight away (a claim takes ready jobs too), and the mark below then leaves it alone.
  const chosen = await publish(jobs.map(({ version: _, ...job }) => job));
  // Only what was published is marked: a stale job left out keeps its dispatched_at, so it is
  // still the oldest candidate next time rather than waiting another staleMs.
  const only = chosen === undefined ? null : new Set(chosen);
  const marking = only === null ? jobs : jobs.filter((j) => only.has(j.id));
  const published = marking.filter((j) => j.state === 'ready').length;
  if (marking.length === 0) return { published: 0, republished: 0, marked: 0 };
  const [row] = await ctx.db.query<{ marked: number }>(SQL.markDispatched, [marking.map((j) => j.id), marking.map((j) => j.version), ctx.now()]);
  return { published, republished: marking.length - published, marked: row?.marked ?? 0 };
}

/**
 * Gives dispatched jobs back to ready (of the given functions, or all), so that the relay
 * publishes them again: their messages were lost. Returns how many.
 */
export async function requeueDispatched(ctx: StoreContext, funcnames?: readonly string[]): Promise<number> {
  const only = funcnames === undefined ? null : funcnames.map((f, i) => validateFuncname(f, `funcnames[${i}]`));
  let total = 0;
  // Bounded statements: a backlog of a million dispatched jobs must not be one long lock. The
  // round limit ends the loop even if another relay keeps dispatching jobs meanwhile.
  for (let round = 0; round < REQUEUE_ROUNDS_MAX; round++) {
    const [row] = await ctx.db.query<{ requeued: number }>(SQL.requeueDispatched, [only, REQUEUE_BATCH]);
    const requeued = row?.requeued ?? 0;
    total += requeued;
    if (requeued < REQUEUE_BATCH) break;
  }
  return total;
}

/** A relay announces it is going to sleep (inserts start to NOTIFY), or that it is awake again. */
export async function announceSleep(ctx: StoreContext, relayId: string, asleep: boolean): Promise<void> {
  if (asleep) await ctx.db.query(SQL.announceSleep, [relayId, ctx.now()]);
  else await ctx.db.query(SQL.announceAwake, [relayId]);
}

/** Functions with jobs waiting for a worker (ready or dispatched). */
export async function claimableFuncnames(ctx: StoreContext): Promise<string[]> {
  return (await ctx.db.query<{ funcname: string }>(SQL.claimableFuncnames, [])).map((r) => r.funcname);
}
