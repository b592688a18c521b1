/**
 * Inserts that carry idempotency keys. The keys are taken first, in the same transaction as the
 * jobs, so a retry of an insert whose connection died at commit finds either nothing (the first
 * attempt rolled back: this one inserts) or the key (it committed: this one returns that job).
 * Two inserts with one key in flight at once serialise on the key's primary-key entry: the second
 * waits for the first's transaction and then finds its key.
 */
import { InfrastructureError, type InsertResult, type ValidJob } from '@drover/core';
import type { SqlExecutor } from './executor.js';
import { SQL } from './statements.js';

/** What a keyed insert needs from the store around it. */
export interface KeyedInsertContext {
  /** How long a key is honoured, ms. */
  retentionMs: number;
  now: Date | null;
  /** Inserts jobs, with the ids given (null: drawn by the statement), resolving uniqkey duplicates. */
  insert(tx: SqlExecutor, jobs: ValidJob[], ids: (string | null)[]): Promise<InsertResult[]>;
}

/**
 * Inserts `jobs` (some with an idempotency key, some without) in one transaction on `db`. A job
 * whose key exists gets the key's job id and `inserted: false`; a job inserted with a key that met
 * a live job holding its uniqkey leaves the key pointing at that job.
 */
export async function insertKeyed(db: SqlExecutor, jobs: ValidJob[], context: KeyedInsertContext): Promise<InsertResult[]> {
  return db.transaction(async (tx) => {
    const keys = [...new Set(jobs.flatMap((j) => (j.idempotencyKey === null ? [] : [j.idempotencyKey])))];
    const taken = new Map(
      (await tx.query<{ key: string; job_id: string }>(SQL.takeIdempotencyKeys, [keys, context.retentionMs, context.now])).map((r) => [r.key, r.job_id]),
    );
    // Keys someone else holds: read in a fresh statement, which sees a holder that committed while we waited.
    const held = keys.filter((k) => !taken.has(k));
    const existing = new Map(
      held.length === 0 ? [] : (await tx.query<{ key: string; job_id: string }>(SQL.findIdempotencyKeys, [held])).map((r) => [r.key, r.job_id]),
    );
    if (existing.size < held.length) {
      // Taken by a transaction that committed, then trimmed before we could read it: rare, and a retry settles it.
      throw new InfrastructureError('insert: an idempotency key was trimmed while it was looked up; try again');
    }
    // A key repeated in the batch inserts its job once: the first occurrence; the others report that job.
    const first = new Map<string, number>();
    const toInsert: number[] = [];
    jobs.forEach((j, i) => {
      const key = j.idempotencyKey;
      if (key === null) toInsert.push(i);
      else if (taken.has(key) && !first.has(key)) {
        first.set(key, i);
        toInsert.push(i);
      }
    });
    const inserted = await context.insert(
      tx,
      toInsert.map((i) => jobs[i]!),
      toInsert.map((i) => (jobs[i]!.idempotencyKey === null ? null : taken.get(jobs[i]!.idempotencyKey)!)),
    );
    const results: (InsertResult | undefined)[] = new Array<InsertResult | undefined>(jobs.length);
    toInsert.forEach((i, k) => (results[i] = inserted[k]));
    // Keys whose job met a live uniqkey holder: the key now names the holder.
    const repoint = toInsert.filter((i, k) => jobs[i]!.idempotencyKey !== null && inserted[k]!.id !== taken.get(jobs[i]!.idempotencyKey));
    if (repoint.length > 0) {
      await tx.query(SQL.repointIdempotencyKeys, [repoint.map((i) => jobs[i]!.idempotencyKey), repoint.map((i) => results[i]!.id)]);
    }
    return jobs.map((j, i) => {
      if (results[i] !== undefined && (j.idempotencyKey === null || first.get(j.idempotencyKey) === i)) return results[i];
      const key = j.idempotencyKey!;
      const firstIndex = first.get(key);
      return { id: firstIndex === undefined ? existing.get(key)! : results[firstIndex]!.id, inserted: false };
    });
  });
}
