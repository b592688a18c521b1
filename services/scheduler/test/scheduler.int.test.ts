import { describe, expect, it } from 'vitest';
import { ManualClock, silentLogger, type JobStore } from '@drover/core';
import { useTestNamespace, waitFor } from '@drover/testing';
import { createScheduler, expireLeases, promoteDueJobs, trimFinishedJobs } from '../src/index.js';

const ns = useTestNamespace();

/**
 * The real store, each method call passing through `around` (which calls `call` to reach the store):
 * a witness of the round trips the scheduler makes, every one of them still reaching PostgreSQL.
 */
function intercept(store: JobStore, around: (method: string, call: () => unknown) => unknown): JobStore {
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      // Bound to the real store: its methods use private fields, which a proxy receiver lacks.
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => around(prop, () => bound(...args));
    },
  });
}

/** The real store, counting the calls to `methods`. */
function counting<K extends keyof JobStore>(store: JobStore, methods: readonly K[]): { store: JobStore; calls: Record<K, number> } {
  const calls = Object.fromEntries(methods.map((m) => [m, 0])) as Record<K, number>;
  return {
    store: intercept(store, (method, call) => {
      if (method in calls) calls[method as K]++;
      return call();
    }),
    calls,
  };
}

describe('scheduler tasks', () => {
  it('promote-due drains a backlog larger than one batch', async () => {
    const clock = new ManualClock(Date.UTC(2041, 0, 1));
    const store = ns.createStore({ clock });
    const at = new Date(clock.now().getTime() + 1000);
    await store.insertMany(Array.from({ length: 25 }, () => ({ funcname: 's.promote', runAfter: at })));
    clock.advance(1000);
    expect(await promoteDueJobs(store, silentLogger, 10)).toBeGreaterThanOrEqual(25);
    expect((await store.findJobs({ funcname: 's.promote', states: ['ready'] })).length).toBe(25);
  });

  it('expire-leases takes back every expired lease across batches', async () => {
    const clock = new ManualClock(Date.UTC(2042, 0, 1));
    const store = ns.createStore({ clock });
    const ids = (await store.insertMany(Array.from({ length: 25 }, () => ({ funcname: 's.expire' })))).map((r) => r.id);
    await store.claim(ids, { leaseMs: 1000 });
    clock.advance(1000);
    expect(await expireLeases(store, silentLogger, 10)).toBe(25);
    expect((await store.findJobs({ funcname: 's.expire', states: ['scheduled'] })).length).toBe(25);
  });

  it('trim-finished deletes every finished job past retention across batches', async () => {
    const clock = new ManualClock(Date.UTC(2043, 0, 1));
    const store = ns.createStore({ clock });
    const ids = (await store.insertMany(Array.from({ length: 25 }, () => ({ funcname: 's.trim' })))).map((r) => r.id);
    const claimed = await store.claim(ids, { leaseMs: 1000 });
    await store.completeMany(claimed.map((j) => ({ ...j, keepForMs: 1000 })));
    clock.advance(1000);
    expect(await trimFinishedJobs(store, silentLogger, 10)).toBeGreaterThanOrEqual(25);
    expect(await store.findJobs({ funcname: 's.trim' })).toEqual([]);
  });
});

describe('scheduler loop', () => {
  it('promotes a job when it falls due, woken by its NOTIFY rather than by polling', async () => {
    // Polls an hour apart: only the timer set from the notification can promote the job in time.
    const scheduler = createScheduler({ store: ns.store, pollMs: 3_600_000 });
    await scheduler.start();
    try {
      // Its first pass is over (it read the next due time before the insert), so it sleeps for the
      // hour: a promotion can only come from a wake-up.
      await waitFor(() => scheduler.totals.passes >= 1, { what: 'the first pass', intervalMs: 5 });
      const runAfter = new Date(Date.now() + 800);
      const { id } = await ns.store.insert({ funcname: 's.loop', runAfter });
      const promotedAt = await waitFor(async () => ((await ns.store.getJob(id))?.state === 'ready' ? Date.now() : null), { what: 'the promotion', intervalMs: 10 });
      expect(promotedAt).toBeGreaterThanOrEqual(runAfter.getTime());
    } finally {
      await scheduler.stop();
    }
  });

  it('takes back an expired lease on its own', async () => {
    const scheduler = createScheduler({ store: ns.store, pollMs: 100 });
    await scheduler.start();
    try {
      const { id } = await ns.store.insert({ funcname: 's.lease' });
      await ns.store.claim([id], { leaseMs: 300 });
      const job = await waitFor(async () => {
        const j = await ns.store.getJob(id);
        return j?.state === 'scheduled' ? j : null;
      }, { what: 'the lease to be taken back' });
      expect(job.failureLog.map((f) => f.error)).toEqual(['lease expired']);
    } finally {
      await scheduler.stop();
    }
  });
});

describe('scheduler trim cadence', () => {
  it('trims finished jobs and idempotency keys on its first pass, then once per trimEveryMs of its clock, not on every pass', async () => {
    const clock = new ManualClock(Date.UTC(2044, 0, 1));
    const real = ns.createStore({ clock, idempotencyKeyRetentionMs: 10_000 });
    const { store, calls } = counting(real, ['trimFinished', 'trimIdempotencyKeys', 'promoteDue']);
    const scheduler = createScheduler({ store, clock, pollMs: 3_600_000, trimEveryMs: 60_000 });
    const keys = async (): Promise<number> => (await ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM idempotency_keys WHERE key = 'cadence-1'")).rows[0]!.n;

    await scheduler.runOnce();
    expect(calls).toMatchObject({ trimFinished: 1, trimIdempotencyKeys: 1 });
    await real.insert({ funcname: 's.cadence', idempotencyKey: 'cadence-1' });
    // Passes go on (each promotes, as it should), and the key expires: no trim before the cadence says so.
    clock.advance(30_000);
    for (let i = 0; i < 5; i++) expect(await scheduler.runOnce()).toBe(30_000);
    clock.advance(29_999);
    expect(await scheduler.runOnce()).toBe(1);
    expect(calls).toMatchObject({ promoteDue: 7, trimFinished: 1, trimIdempotencyKeys: 1 });
    expect(await keys()).toBe(1);

    clock.advance(1);
    expect(await scheduler.runOnce()).toBe(60_000);
    expect(calls).toMatchObject({ promoteDue: 8, trimFinished: 2, trimIdempotencyKeys: 2 });
    expect(await keys()).toBe(0);
    expect(scheduler.totals).toMatchObject({ passes: 8, trims: 2, keysTrimmed: 1 });
  });

  it('tries a failed trim again on the next pass', async () => {
    const clock = new ManualClock(Date.UTC(2045, 0, 1));
    const real = ns.createStore({ clock });
    // The database refuses the first trim of idempotency keys: a real failure would fail the same call.
    let failures = 1;
    const flaky = intercept(real, (method, call) => (method === 'trimIdempotencyKeys' && failures-- > 0 ? Promise.reject(new Error('database away')) : call()));
    const scheduler = createScheduler({ store: flaky, clock, pollMs: 3_600_000, trimEveryMs: 60_000 });
    await expect(scheduler.runOnce()).rejects.toThrow('database away');
    expect(scheduler.totals.trims).toBe(0);
    await scheduler.runOnce();
    expect(scheduler.totals.trims).toBe(1);
  });

  it('refuses a trim cadence that is not a positive whole number of milliseconds, naming it', () => {
    for (const trimEveryMs of [0, -1, 1.5, Number.NaN]) {
      expect(() => createScheduler({ store: ns.store, trimEveryMs })).toThrow(/trimEveryMs/);
    }
  });
});
