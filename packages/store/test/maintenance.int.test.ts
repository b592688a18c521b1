/**
 * Role: SchedulerStore — `promoteDue`, `expireLeases`, `trimFinished`. Runs on both adapters.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

// Each test works on its own function name and reads only its own jobs: the namespace is shared
// by the file, and a manual clock makes every other test's waiting jobs due too.
const ns = useTestNamespace();
const SECOND = 1000;

describe('promoteDue', () => {
  it('makes scheduled jobs ready once their run_after has come, and not before', async () => {
    const clock = new ManualClock(Date.UTC(2031, 0, 1));
    const store = ns.createStore({ clock });
    const { id } = await store.insert({ funcname: 'm.promote', runAfter: new Date(clock.now().getTime() + 10 * SECOND) });
    clock.advance(9 * SECOND);
    await store.promoteDue();
    expect((await store.getJob(id))?.state).toBe('scheduled');
    clock.advance(SECOND);
    expect(await store.promoteDue()).toBeGreaterThanOrEqual(1);
    expect((await store.getJob(id))?.state).toBe('ready');
  });
});

describe('expireLeases', () => {
  it('takes back each expired lease exactly once, counted as a failure, under concurrent sweepers', async () => {
    const clock = new ManualClock(Date.UTC(2032, 0, 1));
    const claimer = ns.createStore({ clock });
    const ids = (await claimer.insertMany(Array.from({ length: 300 }, () => ({ funcname: 'm.expire' })))).map((r) => r.id);
    await claimer.claim(ids, { leaseMs: 5 * SECOND });
    clock.advance(6 * SECOND);
    const sweepers = Array.from({ length: 4 }, () => ns.createStore({ clock, random: () => 0.5, max: 2 }));
    // Small batches interleave the sweepers over the same rows.
    const taken = await Promise.all(sweepers.map(async (s) => {
      const mine: string[] = [];
      for (;;) {
        const results = await s.expireLeases(40);
        if (results.length === 0) break;
        mine.push(...results.filter((r) => r.accepted).map((r) => r.id));
      }
      return mine;
    }));
    const all = taken.flat();
    expect(all.sort()).toEqual([...ids].sort());
    const { rows } = await ns.pool.query<{ state: string; failures: number; logged: number; error: string | null }>(
      `SELECT j.state, j.failures, count(f.*)::int AS logged, min(f.error) AS error
       FROM jobs j LEFT JOIN job_failures f ON f.job_id = j.id
       WHERE j.funcname = 'm.expire' GROUP BY j.id, j.state, j.failures`,
    );
    expect(rows).toHaveLength(300);
    expect(rows.every((r) => r.state === 'scheduled' && r.failures === 1 && r.logged === 1 && r.error === 'lease expired')).toBe(true);
    // Backed off by the default schedule: 2 minutes after the first failure.
    const { rows: due } = await ns.pool.query<{ run_after: Date }>("SELECT DISTINCT run_after FROM jobs WHERE funcname = 'm.expire'");
    expect(due.map((r) => r.run_after.getTime())).toEqual([clock.now().getTime() + 120 * SECOND]);
  });

  it('leaves a lease that a heartbeat extended', async () => {
    const clock = new ManualClock(Date.UTC(2033, 0, 1));
    const store = ns.createStore({ clock });
    const { id } = await store.insert({ funcname: 'm.alive' });
    const [job] = await store.claim([id], { leaseMs: 5 * SECOND });
    clock.advance(4 * SECOND);
    await store.heartbeat([job!], { leaseMs: 5 * SECOND });
    clock.advance(4 * SECOND);
    const results = await store.expireLeases();
    expect(results.map((r) => r.id)).not.toContain(id);
    expect((await store.getJob(id))?.state).toBe('running');
    expect((await store.complete(job!)).accepted).toBe(true);
  });

  it('fails the job for good when the expired attempt was its last', async () => {
    const clock = new ManualClock(Date.UTC(2034, 0, 1));
    const store = ns.createStore({ clock });
    const { id } = await store.insert({ funcname: 'm.last', maxRetries: 0 });
    await store.claim([id], { leaseMs: SECOND });
    clock.advance(2 * SECOND);
    expect((await store.expireLeases()).find((r) => r.id === id)).toMatchObject({ accepted: true, outcome: 'failed' });
    expect(await store.getJob(id)).toMatchObject({ state: 'failed', failures: 1, failureLog: [{ attempt: 1, error: 'lease expired' }] });
  });
});

describe('trimFinished', () => {
  it('deletes finished jobs, their failure logs and their owners once their retention has passed', async () => {
    const clock = new ManualClock(Date.UTC(2035, 0, 1));
    const store = ns.createStore({ clock });
    const { id } = await store.insertFor('trimmed-client', { funcname: 'm.trim', maxRetries: 1 });
    let [job] = await store.claim([id], { leaseMs: SECOND });
    await store.fail({ id, grabToken: job!.grabToken, error: 'once', retryDelayMs: 0 });
    [job] = await store.claim([id], { leaseMs: SECOND });
    await store.complete({ id, grabToken: job!.grabToken, keepForMs: 60 * SECOND });
    clock.advance(59 * SECOND);
    await store.trimFinished();
    expect((await store.getJob(id))?.failureLog).toHaveLength(1);
    clock.advance(SECOND);
    expect(await store.trimFinished()).toBeGreaterThanOrEqual(1);
    expect(await store.getJob(id)).toBeNull();
    const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM job_failures WHERE job_id = $1', [id]);
    expect(rows[0]?.n).toBe(0);
    expect(await store.ownedBy('trimmed-client', [id])).toEqual([]);
    expect((await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM job_owners WHERE job_id = $1', [id])).rows[0]?.n).toBe(0);
  });
});
