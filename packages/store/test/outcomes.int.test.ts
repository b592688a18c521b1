/**
 * Role: WorkerStore — the outcome writes (`complete`, `completeMany`, `fail`, `failMany`,
 * `permanentFailure`, `decline`, `replaceWith`), each fenced by its grab token; and AdminStore —
 * `reschedule`, `cancel`, `retry` (the last two describes). Runs on both adapters.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError, DEFAULT_RETRY_POLICY, ManualClock, backoffDelayMs } from '@drover/core';
import { useTestNamespace } from '@drover/testing';
import { countRows, insertAndClaim, liveRow } from './helpers.js';

const ns = useTestNamespace();
const LEASE = { leaseMs: 60_000 };
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe('complete', () => {
  it('moves the job to finished_jobs with its result, kept for the given time', async () => {
    const job = await insertAndClaim(ns.store, { funcname: 'out.complete', arg: { x: 1 } });
    expect(await ns.store.complete({ id: job.id, grabToken: job.grabToken, result: { sum: 3 }, keepForMs: DAY })).toEqual({ id: job.id, accepted: true });
    expect(await liveRow(ns.pool, job.id)).toBeUndefined();
    const done = await ns.store.getJob(job.id);
    expect(done).toMatchObject({ state: 'completed', result: { sum: 3 }, arg: { x: 1 }, attempts: 1, failures: 0 });
    const { rows } = await ns.pool.query<{ keep: number }>('SELECT extract(epoch FROM delete_after - finished_at)::int AS keep FROM finished_jobs WHERE id = $1', [job.id]);
    expect(rows[0]?.keep).toBe(86_400);
  });

  it('keeps no exit status with keepForMs 0: the job and its failure log are deleted', async () => {
    const { id } = await ns.store.insert({ funcname: 'out.forget' });
    const [first] = await ns.store.claim([id], LEASE);
    await ns.store.fail({ id, grabToken: first!.grabToken, error: 'once', retryDelayMs: 0 });
    const kept = await insertAndClaim(ns.store, { funcname: 'out.keep' });
    const [second] = await ns.store.claim([id], LEASE);
    const results = await ns.store.completeMany([
      { id, grabToken: second!.grabToken, result: 'gone', keepForMs: 0 },
      { id: kept.id, grabToken: kept.grabToken, result: 'kept' },
    ]);
    expect(results).toEqual([{ id, accepted: true }, { id: kept.id, accepted: true }]);
    expect(await ns.store.getJob(id)).toBeNull();
    const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM job_failures WHERE job_id = $1', [id]);
    expect(rows[0]?.n).toBe(0);
    expect(await ns.store.getJob(kept.id)).toMatchObject({ state: 'completed', result: 'kept' });
  });

  it('refuses a complete or a fail with a stale grab token and changes nothing', async () => {
    const stale = await insertAndClaim(ns.store, { funcname: 'out.stale' });
    await ns.store.decline({ id: stale.id, grabToken: stale.grabToken });
    const [current] = await ns.store.claim([stale.id], LEASE);
    const before = await liveRow(ns.pool, stale.id);
    const logBefore = await countRows(ns.pool, 'job_failures');

    expect(await ns.store.complete({ id: stale.id, grabToken: stale.grabToken, result: 'late' })).toEqual({ id: stale.id, accepted: false });
    expect(await ns.store.fail({ id: stale.id, grabToken: stale.grabToken, error: 'late', retryDelayMs: 1000 })).toMatchObject({ accepted: false, outcome: null });
    expect((await ns.store.permanentFailure({ id: stale.id, grabToken: stale.grabToken, error: 'late' })).accepted).toBe(false);
    expect((await ns.store.decline({ id: stale.id, grabToken: stale.grabToken })).accepted).toBe(false);

    expect(await liveRow(ns.pool, stale.id)).toEqual(before);
    expect(await countRows(ns.pool, 'job_failures')).toBe(logBefore);
    // The holder of the current token still can.
    expect((await ns.store.complete({ id: stale.id, grabToken: current!.grabToken })).accepted).toBe(true);
  });

  it('completes a batch, accepting each write by its own token', async () => {
    const a = await insertAndClaim(ns.store, { funcname: 'out.batch' });
    const b = await insertAndClaim(ns.store, { funcname: 'out.batch' });
    const results = await ns.store.completeMany([
      { id: a.id, grabToken: a.grabToken, result: 'a' },
      { id: b.id, grabToken: a.grabToken, result: 'b' },
    ]);
    expect(results).toEqual([{ id: a.id, accepted: true }, { id: b.id, accepted: false }]);
    expect((await ns.store.getJob(b.id))?.state).toBe('running');
  });
});

describe('batched outcome writes', () => {
  it('do not deadlock against the lease sweep over the same jobs', async () => {
    const clock = new ManualClock(Date.UTC(2038, 0, 1));
    const worker = ns.createStore({ clock, max: 4 });
    const sweeper = ns.createStore({ clock, max: 4 });
    for (let round = 0; round < 10; round++) {
      const ids = (await worker.insertMany(Array.from({ length: 400 }, () => ({ funcname: 'out.deadlock' })))).map((r) => r.id);
      const claimed = await worker.claim(ids, { leaseMs: 1000 });
      clock.advance(2000);
      const candidates = claimed;
      // The worker writes in descending id order while the sweep fails the same rows ascending.
      const [completed, swept] = await Promise.all([
        worker.completeMany([...candidates].reverse()),
        sweeper.failMany(candidates.map((c) => ({ ...c, error: 'lease expired', retryDelayMs: 0 }))),
      ]);
      const done = completed.filter((r) => r.accepted).length;
      const taken = swept.filter((r) => r.accepted).length;
      expect(done + taken).toBe(candidates.length);
    }
  });

  it('refuse one job twice in a batch, and absurd durations, naming the field', async () => {
    const job = await insertAndClaim(ns.store, { funcname: 'out.twice' });
    await expect(ns.store.completeMany([job, job])).rejects.toMatchObject({ field: 'outcomes[1].id' });
    await expect(ns.store.complete({ ...job, keepForMs: 1e15 })).rejects.toMatchObject({ field: 'outcomes[0].keepForMs' });
    await expect(ns.store.fail({ ...job, error: 'x', retryDelayMs: 1e21 })).rejects.toMatchObject({ field: 'failures[0].retryDelayMs' });
    expect((await ns.store.getJob(job.id))?.state).toBe('running');
  });
});

describe('fail', () => {
  it('retries on the 2, 4, 8, … minute schedule, capped at exactly 1 day from the 11th failure', async () => {
    const clock = new ManualClock();
    const store = ns.createStore({ clock });
    const { id } = await store.insert({ funcname: 'out.backoff', maxRetries: 20 });
    const observed: number[] = [];
    for (let n = 1; n <= 13; n++) {
      const [job] = await store.claim([id], LEASE);
      const failedAt = clock.now().getTime();
      const result = await store.fail({
        id, grabToken: job!.grabToken, error: `boom ${n}`,
        retryDelayMs: backoffDelayMs(job!.failures + 1, DEFAULT_RETRY_POLICY, () => 0.5),
      });
      expect(result).toMatchObject({ accepted: true, outcome: 'retry', failures: n });
      // What the database holds, read back: the count and the next run time moved together.
      const row = await liveRow(ns.pool, id);
      expect(row).toMatchObject({ failures: n, state: 'scheduled', grab_token: null });
      observed.push(((row!.run_after as Date).getTime() - failedAt) / MINUTE);
      clock.set(row!.run_after as Date);
      expect(await store.promoteDue()).toBe(1);
    }
    expect(observed).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1440, 1440, 1440]);
  });

  it('fails the job for good past max retries, with every attempt in its failure log', async () => {
    const { id } = await ns.store.insert({ funcname: 'out.spent', maxRetries: 3 });
    const outcomes: (string | null)[] = [];
    for (let n = 1; n <= 4; n++) {
      const [job] = await ns.store.claim([id], LEASE);
      outcomes.push((await ns.store.fail({ id, grabToken: job!.grabToken, error: `attempt ${n} broke`, retryDelayMs: 0 })).outcome);
    }
    expect(outcomes).toEqual(['retry', 'retry', 'retry', 'failed']);
    const job = await ns.store.getJob(id);
    expect(job).toMatchObject({ state: 'failed', failures: 4, attempts: 4 });
    expect(job!.failureLog.map((f) => [f.attempt, f.error])).toEqual([1, 2, 3, 4].map((n) => [n, `attempt ${n} broke`]));
    expect(job!.failureLog.every((f) => f.failedAt instanceof Date)).toBe(true);
  });

  it('honours a function-level max retries override', async () => {
    const job = await insertAndClaim(ns.store, { funcname: 'out.override', maxRetries: 10 });
    expect((await ns.store.fail({ id: job.id, grabToken: job.grabToken, error: 'x', retryDelayMs: 0, maxRetries: 0 })).outcome).toBe('failed');
  });

  it('fails for good at once on a permanent failure', async () => {
    const job = await insertAndClaim(ns.store, { funcname: 'out.permanent', maxRetries: 10 });
    expect(await ns.store.permanentFailure({ id: job.id, grabToken: job.grabToken, error: 'bad address' })).toMatchObject({ accepted: true, outcome: 'failed', failures: 1 });
    expect((await ns.store.getJob(job.id))?.failureLog.map((f) => f.error)).toEqual(['bad address']);
  });
});

describe('decline', () => {
  it('gives the job back without counting a failure, optionally for later', async () => {
    const job = await insertAndClaim(ns.store, { funcname: 'out.decline' });
    expect((await ns.store.decline({ id: job.id, grabToken: job.grabToken })).accepted).toBe(true);
    expect(await ns.store.getJob(job.id)).toMatchObject({ state: 'ready', failures: 0, grabbedUntil: null, failureLog: [] });
    const [again] = await ns.store.claim([job.id], LEASE);
    const later = new Date(Date.now() + 3_600_000);
    await ns.store.decline({ id: job.id, grabToken: again!.grabToken, runAfter: later });
    expect(await ns.store.getJob(job.id)).toMatchObject({ state: 'scheduled', runAfter: later, failures: 0 });
  });
});

describe('replaceWith', () => {
  it('completes the job and inserts its replacements together', async () => {
    const job = await insertAndClaim(ns.store, { funcname: 'out.replace', uniqkey: 'chain' });
    const result = await ns.store.replaceWith(job, [{ funcname: 'out.next', arg: 1 }, { funcname: 'out.replace', uniqkey: 'chain', arg: 2 }]);
    expect(result.accepted).toBe(true);
    expect(result.inserted.map((r) => r.inserted)).toEqual([true, true]);
    expect((await ns.store.getJob(job.id))?.state).toBe('completed');
    expect((await ns.store.getJob(result.inserted[1]!.id))).toMatchObject({ state: 'ready', uniqkey: 'chain', arg: 2 });
  });

  it('is all-or-nothing: when one replacement cannot be inserted the original stays live and unchanged', async () => {
    // A trigger in this test's schema makes the database refuse one of the new jobs, after the
    // complete has already run inside the transaction.
    await ns.pool.query(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.funcname = 'out.poison' THEN RAISE EXCEPTION 'poison job refused'; END IF; RETURN NEW; END $$`);
    await ns.pool.query('CREATE TRIGGER refuse_poison BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION refuse_poison()');
    try {
      const job = await insertAndClaim(ns.store, { funcname: 'out.atomic' });
      const before = await liveRow(ns.pool, job.id);
      const jobsBefore = await countRows(ns.pool, 'jobs');
      const finishedBefore = await countRows(ns.pool, 'finished_jobs');
      await expect(ns.store.replaceWith(job, [{ funcname: 'out.fine' }, { funcname: 'out.poison' }])).rejects.toThrow(/poison job refused/);
      expect(await liveRow(ns.pool, job.id)).toEqual(before);
      expect(await countRows(ns.pool, 'jobs')).toBe(jobsBefore);
      expect(await countRows(ns.pool, 'finished_jobs')).toBe(finishedBefore);
      // The worker still holds the job and can finish it normally.
      expect((await ns.store.complete(job)).accepted).toBe(true);
    } finally {
      await ns.pool.query('DROP TRIGGER refuse_poison ON jobs; DROP FUNCTION refuse_poison()');
    }
  });

  it('inserts nothing when the grab token is stale', async () => {
    const job = await insertAndClaim(ns.store, { funcname: 'out.replace-stale' });
    const before = await countRows(ns.pool, 'jobs');
    const result = await ns.store.replaceWith({ id: job.id, grabToken: '1' }, [{ funcname: 'out.orphan' }]);
    expect(result).toEqual({ accepted: false, inserted: [] });
    expect(await countRows(ns.pool, 'jobs')).toBe(before);
  });
});

describe('reschedule', () => {
  it("moves a waiting job to never, to +N seconds, or to a time, and leaves a running one alone", async () => {
    const clock = new ManualClock();
    const store = ns.createStore({ clock });
    const { id } = await store.insert({ funcname: 'out.reschedule' });
    expect(await store.reschedule(id, 'never')).toMatchObject({ state: 'scheduled', runAfter: null });
    // Even far in the future, a job set to never is not promoted.
    clock.advance(100 * 365 * DAY);
    await store.promoteDue();
    expect((await store.getJob(id))?.state).toBe('scheduled');
    expect(await store.reschedule(id, '+90')).toMatchObject({ state: 'scheduled', runAfter: new Date(clock.now().getTime() + 90_000) });
    expect(await store.reschedule(id, clock.now())).toMatchObject({ state: 'ready' });
    await store.claim([id], LEASE);
    expect(await store.reschedule(id, 'never')).toBeNull();
    await expect(store.reschedule(id, 'soon' as never)).rejects.toMatchObject({ field: 'when' });
  });
});

describe('cancel and retry', () => {
  it('cancels a running job so that its worker can no longer write an outcome', async () => {
    const job = await insertAndClaim(ns.store, { funcname: 'out.cancel' });
    expect(await ns.store.cancel(job.id)).toBe(true);
    expect(await ns.store.cancel(job.id)).toBe(false);
    expect((await ns.store.complete(job)).accepted).toBe(false);
    expect((await ns.store.getJob(job.id))?.state).toBe('cancelled');
  });

  it('retries a failed job with a fresh set of retries, keeping its history', async () => {
    const job = await insertAndClaim(ns.store, { funcname: 'out.retry', maxRetries: 0 });
    await ns.store.fail({ id: job.id, grabToken: job.grabToken, error: 'first life', retryDelayMs: 0 });
    expect(await ns.store.retry(job.id)).toMatchObject({ state: 'ready', failures: 0, attempts: 1 });
    const [again] = await ns.store.claim([job.id], LEASE);
    expect(again!.attempts).toBe(2);
    await ns.store.complete(again!);
    expect((await ns.store.getJob(job.id))?.failureLog.map((f) => f.error)).toEqual(['first life']);
    expect(await ns.store.retry(job.id)).toBeNull();
  });

  it('refuses to retry a job whose uniqkey is live again, and changes nothing', async () => {
    const { id } = await ns.store.insert({ funcname: 'out.retry-uniq', uniqkey: 'u' });
    await ns.store.cancel(id);
    await ns.store.insert({ funcname: 'out.retry-uniq', uniqkey: 'u' });
    await expect(ns.store.retry(id)).rejects.toThrow(ConflictError);
    expect((await ns.store.getJob(id))?.state).toBe('cancelled');
  });
});
