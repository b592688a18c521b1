import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { useTestNamespace } from '@drover/testing';
import { CallTimeoutError, JobFailedError, createClient } from '../src/index.js';

const ns = useTestNamespace();
const client = () => createClient({ store: ns.store });
const plain: pg.Pool[] = [];
afterAll(async () => {
  await Promise.all(plain.map((p) => p.end()));
});

/** A pool as an application has it: the default search_path, knowing nothing of Drover's schema. */
function appPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: ns.databaseUrl, max: 2 });
  plain.push(pool);
  return pool;
}

describe('client', () => {
  it("commits a job with the caller's transaction and leaves none when it rolls back", async () => {
    const pool = appPool();
    const db = await pool.connect();
    try {
      await db.query('CREATE TEMP TABLE orders (id int)');
      await db.query('BEGIN');
      await db.query('INSERT INTO orders VALUES (1)');
      const kept = await client().enqueue({ funcname: 'c.receipt', arg: { order: 1 } }, { tx: db });
      await db.query('COMMIT');
      await db.query('BEGIN');
      await db.query('INSERT INTO orders VALUES (2)');
      const lost = await client().enqueue({ funcname: 'c.receipt', arg: { order: 2 } }, { tx: db });
      await db.query('ROLLBACK');
      expect((await ns.store.getJob(kept.id))?.arg).toEqual({ order: 1 });
      expect(await ns.store.getJob(lost.id)).toBeNull();
      expect(await ns.store.findJobs({ funcname: 'c.receipt', argContains: { order: 2 } })).toEqual([]);
      // The caller's own search_path is back as it was.
      const { rows } = await db.query<{ search_path: string }>('SHOW search_path');
      expect(rows[0]?.search_path).toBe('"$user", public');
    } finally {
      db.release();
    }
  });

  it('call resolves with the result once a worker completes the job', async () => {
    const c = client();
    const pending = c.call({ funcname: 'c.call', arg: [2, 3] }, { timeoutMs: 10_000 });
    // Play the worker: claim the job and complete it.
    let claimed = await ns.store.claimNext('c.call', 1, { leaseMs: 10_000 });
    while (claimed.length === 0) claimed = await ns.store.claimNext('c.call', 1, { leaseMs: 10_000 });
    await ns.store.complete({ ...claimed[0]!, result: 5 });
    expect(await pending).toBe(5);
  });

  it('call rejects with the last error when the job fails for good, and times out otherwise', async () => {
    const c = client();
    const pending = c.call({ funcname: 'c.fails', maxRetries: 0 }, { timeoutMs: 10_000 });
    // Its outcome is taken at once: the call may reject while the job is still being failed below.
    const outcome = pending.then(() => null, (err: unknown) => err);
    let claimed = await ns.store.claimNext('c.fails', 1, { leaseMs: 10_000 });
    while (claimed.length === 0) claimed = await ns.store.claimNext('c.fails', 1, { leaseMs: 10_000 });
    await ns.store.fail({ ...claimed[0]!, error: 'Error: no such user\n    at handler', retryDelayMs: 0 });
    const err = await outcome;
    expect(err).toBeInstanceOf(JobFailedError);
    expect((err as Error).message).toMatch(/failed: Error: no such user$/);
    await expect(c.call({ funcname: 'c.nobody' }, { timeoutMs: 100 })).rejects.toThrow(CallTimeoutError);
  });
});

describe('client workflow version tags', () => {
  const tagOf = async (id: string): Promise<string | null> =>
    (await ns.pool.query<{ tag: string }>('SELECT tag FROM workflow_job_tags WHERE job_id = $1', [id])).rows[0]?.tag ?? null;

  it('writes the tag of enqueue and call with the job, also inside the caller transaction (and not when it rolls back)', async () => {
    const plainJob = await client().enqueue({ funcname: 'c.flow', arg: {} }, { tag: 'beta' });
    expect(await tagOf(plainJob.id)).toBe('beta');
    const untagged = await client().enqueue({ funcname: 'c.flow', arg: {} });
    expect(await tagOf(untagged.id)).toBeNull();
    const called = await client().call({ funcname: 'c.flow', arg: { call: true } }, { tag: 'rc', timeoutMs: 50 }).catch((e: unknown) => e);
    expect(called).toBeInstanceOf(CallTimeoutError);
    expect(await tagOf((called as CallTimeoutError).jobId)).toBe('rc');

    const db = await appPool().connect();
    try {
      await db.query('BEGIN');
      const kept = await client().enqueue({ funcname: 'c.flow', arg: {} }, { tx: db, tag: 'kept' });
      await db.query('COMMIT');
      await db.query('BEGIN');
      const lost = await client().enqueue({ funcname: 'c.flow', arg: {} }, { tx: db, tag: 'lost' });
      await db.query('ROLLBACK');
      expect(await tagOf(kept.id)).toBe('kept');
      expect(await tagOf(lost.id)).toBeNull();
    } finally {
      db.release();
    }
  });
});
