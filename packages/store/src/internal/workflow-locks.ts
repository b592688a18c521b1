/**
 * Workflow locks (JobCenter's `lock` / `unlock` / `wait_for_lock`): a named lock held by one job,
 * lent to its descendants when taken with `inherit`, waited for in arrival order, with deadlocks
 * refused when a wait would close a cycle of the wait graph.
 *
 * Concurrency. Every operation first takes one transaction-scoped advisory lock per namespace
 * (sql/workflow-lock-guard.sql), in a statement of its own, and holds it to commit. Under READ
 * COMMITTED each later statement takes a fresh snapshot, so it sees everything committed by the
 * operation that held the guard before: two jobs racing for a free lock are decided one after the
 * other (the second reads the first's row and waits or is busy), and two waits that would close a
 * cycle together cannot both pass the check, since the second check sees the first wait. Edges
 * the guard does not cover cannot close a cycle on their own: a new child has no outgoing edge
 * when its parent edge appears, and a grant only re-points waits at the job granted, which was
 * waiting (so it had no lock wait of its own left). One guard for the namespace, not one per
 * lock, because the cycle check reads the whole graph; lock operations are a step's rare effect,
 * so the serialization costs little. A caller running under REPEATABLE READ or stricter would
 * read a snapshot older than the guard: the engine must run its steps under READ COMMITTED.
 */
import { ValidationError, validateAncestors, validateLockKey, type WorkflowLockAnswer, type WorkflowLockHolder, type WorkflowLockOptions } from '@drover/core';
import { checkId, isId } from './checks.js';
import type { StoreContext } from './context.js';
import type { SqlExecutor } from './executor.js';
import { SQL } from './statements.js';
import { shortestPath } from './wait-graph.js';

interface LockRow {
  holder: string;
  inherit: boolean;
  borrowers: string[];
  acquired_at: Date;
}

/** The job using a lock now: its innermost borrower, or its holder. */
function userOf(row: LockRow): string {
  return row.borrowers.at(-1) ?? row.holder;
}

async function guarded<T>(ctx: StoreContext, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  return ctx.db.transaction(async (tx) => {
    await tx.query(SQL.workflowLockGuard, []);
    return fn(tx);
  });
}

async function readLock(tx: SqlExecutor, type: string, value: string): Promise<LockRow | null> {
  const [row] = await tx.query<LockRow>(SQL.workflowLockRead, [type, value]);
  return row ?? null;
}

function checkOptions(options: WorkflowLockOptions): { inherit: boolean; wait: boolean; ancestors: string[]; until: Date | null } {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object');
  if (typeof options.inherit !== 'boolean') throw new ValidationError('inherit', 'must be a boolean');
  if (typeof options.wait !== 'boolean') throw new ValidationError('wait', 'must be a boolean');
  const until = options.until ?? null;
  if (until !== null && (!(until instanceof Date) || Number.isNaN(until.getTime()))) throw new ValidationError('until', 'must be a valid Date or null');
  return { inherit: options.inherit, wait: options.wait, ancestors: validateAncestors(options.parentJobIds, isId), until };
}

/** See WorkflowLockStore.lock in @drover/core. */
export async function lock(ctx: StoreContext, jobId: string, type: string, value: string, options: WorkflowLockOptions): Promise<WorkflowLockAnswer> {
  checkId(jobId, 'jobId');
  const key = validateLockKey(type, value);
  const opts = checkOptions(options);
  return guarded(ctx, async (tx) => {
    const row = await readLock(tx, key.type, key.value);
    if (!row) {
      await tx.query(SQL.workflowLockInsert, [jobId, key.type, key.value, opts.inherit, ctx.now()]);
      return { kind: 'acquired' };
    }
    // Asking again for a lock the job has: JobCenter calls it an error; a step repeated after a
    // crash may ask again, so it is answered as what it is, held.
    if (row.holder === jobId || row.borrowers.includes(jobId)) return { kind: 'acquired' };
    const user = userOf(row);
    if (row.inherit && opts.ancestors.includes(user)) {
      // The lock's user is an ancestor waiting for this job: lent, to return when the job lets go.
      await tx.query(SQL.workflowLockSetBorrowers, [key.type, key.value, [...row.borrowers, jobId]]);
      return { kind: 'acquired' };
    }
    if (!opts.wait) return { kind: 'busy', holder: row.holder };
    const [reach] = await tx.query<{ cycle: boolean }>(SQL.workflowLockReaches, [jobId, user]);
    if (reach?.cycle) {
      const edges = await tx.query<{ src: string; dst: string }>(SQL.workflowLockCycle, [jobId, user]);
      return { kind: 'deadlock', cycle: [jobId, ...shortestPath(edges, user, jobId)] };
    }
    await tx.query(SQL.workflowLockWait, [jobId, key.type, key.value, opts.inherit, opts.ancestors, ctx.now(), opts.until]);
    return { kind: 'waiting', holder: row.holder };
  });
}

/**
 * Lets go of one lock the job has, under the guard: a borrower hands it back to the previous user
 * (who lends it on to the oldest of its descendants waiting, if any); the holder gives it to the
 * oldest waiter, or frees it. The grant appends the new user's wakeup in the same statement.
 */
async function release(tx: SqlExecutor, ctx: StoreContext, jobId: string, type: string, value: string, row: LockRow): Promise<void> {
  const at = row.borrowers.indexOf(jobId);
  if (at >= 0) {
    // Borrowers after this one are its own descendants, ending with it.
    const remaining = row.borrowers.slice(0, at);
    const lender = remaining.at(-1) ?? row.holder;
    const [next] = await tx.query<{ job_id: string }>(SQL.workflowLockNextWaiter, [type, value, lender]);
    if (next && row.inherit) {
      await tx.query(SQL.workflowLockGrant, [next.job_id, type, value, true, remaining, ctx.now()]);
    } else {
      await tx.query(SQL.workflowLockSetBorrowers, [type, value, remaining]);
    }
    return;
  }
  const [next] = await tx.query<{ job_id: string }>(SQL.workflowLockNextWaiter, [type, value, null]);
  if (next) await tx.query(SQL.workflowLockGrant, [next.job_id, type, value, false, [], ctx.now()]);
  else await tx.query(SQL.workflowLockDelete, [type, value]);
}

/** See WorkflowLockStore.unlock in @drover/core. */
export async function unlock(ctx: StoreContext, jobId: string, type: string, value: string): Promise<boolean> {
  checkId(jobId, 'jobId');
  const key = validateLockKey(type, value);
  return guarded(ctx, async (tx) => {
    const row = await readLock(tx, key.type, key.value);
    if (!row || (row.holder !== jobId && !row.borrowers.includes(jobId))) return false;
    await release(tx, ctx, jobId, key.type, key.value, row);
    return true;
  });
}

/** See WorkflowLockStore.releaseAll in @drover/core. */
export async function releaseAll(ctx: StoreContext, jobId: string): Promise<number> {
  checkId(jobId, 'jobId');
  return guarded(ctx, async (tx) => {
    // Its wait first: a job that ends while waiting must not be granted a lock afterwards.
    await tx.query(SQL.workflowLockCancelWait, [jobId]);
    const held = await tx.query<{ lock_type: string; lock_value: string }>(SQL.workflowLocksOf, [jobId]);
    for (const { lock_type: type, lock_value: value } of held) {
      const row = await readLock(tx, type, value);
      if (row) await release(tx, ctx, jobId, type, value, row);
    }
    return held.length;
  });
}

/** See WorkflowLockStore.cancelLockWait in @drover/core. */
export async function cancelLockWait(ctx: StoreContext, jobId: string): Promise<boolean> {
  checkId(jobId, 'jobId');
  // Under the guard, so that a grant and a timeout are decided one after the other.
  return guarded(ctx, async (tx) => (await tx.query(SQL.workflowLockCancelWait, [jobId])).length > 0);
}

/** See WorkflowLockStore.checkIfLockExists in @drover/core. A read: no guard needed. */
export async function checkIfLockExists(ctx: StoreContext, type: string, value: string): Promise<WorkflowLockHolder | null> {
  const key = validateLockKey(type, value);
  const row = await readLock(ctx.db, key.type, key.value);
  return row ? { holder: row.holder, inherit: row.inherit, borrowers: row.borrowers, acquiredAt: row.acquired_at } : null;
}
