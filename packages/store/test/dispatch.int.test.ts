/**
 * Role: RelayStore — `dispatch`, `requeueDispatched`, `claimableFuncnames`, `announceSleep`; then
 * SchedulerStore's `nextDue` and WakeSource's `listen` (their own describes). Runs on both adapters.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, type DispatchCandidate } from '@drover/core';
import { useTestNamespace, waitFor } from '@drover/testing';

const ns = useTestNamespace();

async function states(ids: string[]): Promise<string[]> {
  const { rows } = await ns.pool.query<{ state: string }>('SELECT state FROM jobs WHERE id = ANY ($1::bigint[]) ORDER BY id', [ids]);
  return rows.map((r) => r.state);
}

describe('dispatch', () => {
  it('publishes ready jobs highest priority first, and marks them dispatched', async () => {
    const ids = (await ns.store.insertMany([
      { funcname: 'd.order', priority: 0 },
      { funcname: 'd.order', priority: 9 },
      { funcname: 'd.later', runAfter: new Date(Date.now() + 60_000) },
    ])).map((r) => r.id);
    const seen: DispatchCandidate[] = [];
    // publish must not touch the database: on an embedded store it would wait on this very transaction.
    const result = await ns.store.dispatch(100, async (jobs) => void seen.push(...jobs));
    expect(result).toEqual({ published: 2, republished: 0, marked: 2 });
    expect(seen.map((j) => j.id)).toEqual([ids[1], ids[0]]);
    expect(seen[0]).toMatchObject({ funcname: 'd.order', priority: 9, state: 'ready' });
    expect(await states(ids)).toEqual(['dispatched', 'dispatched', 'scheduled']);
    // A dispatched job is still claimable by whoever gets the message.
    expect(await ns.store.claim([ids[0]!], { leaseMs: 1000 })).toHaveLength(1);
  });

  it('marks nothing when publishing fails: jobs are dispatched only once the broker took them', async () => {
    const { id } = await ns.store.insert({ funcname: 'd.fail' });
    await expect(ns.store.dispatch(100, async () => {
      throw new Error('broker down');
    })).rejects.toThrow('broker down');
    expect(await states([id])).toEqual(['ready']);
    await ns.store.dispatch(100, async () => undefined);
  });

  it('leaves unmarked a job that changed while its message was being published, so it is published again', async () => {
    const [a, b] = (await ns.store.insertMany([{ funcname: 'd.changed' }, { funcname: 'd.changed' }])).map((r) => r.id);
    const result = await ns.store.dispatch(100, async () => {
      // A worker got the message first, claimed the job and gave it back: it is ready again, and
      // its new life needs a message of its own.
      const [claimed] = await ns.store.claim([a!], { leaseMs: 1000 });
      await ns.store.decline({ id: a!, grabToken: claimed!.grabToken });
    });
    expect(result.published).toBe(2);
    expect(await states([a!, b!])).toEqual(['ready', 'dispatched']);
    const again: DispatchCandidate[] = [];
    await ns.store.dispatch(100, async (jobs) => void again.push(...jobs));
    expect(again.map((j) => j.id)).toEqual([a]);
  });

  it('gives the dispatched jobs of the named functions back to ready, and lists functions with waiting jobs', async () => {
    const ids = (await ns.store.insertMany([{ funcname: 'd.lost-a' }, { funcname: 'd.lost-b' }, { funcname: 'd.lost-c', runAfter: new Date(Date.now() + 60_000) }])).map((r) => r.id);
    await ns.store.dispatch(100, async () => undefined);
    expect(await ns.store.claimableFuncnames()).toEqual(expect.arrayContaining(['d.lost-a', 'd.lost-b']));
    expect(await ns.store.claimableFuncnames()).not.toContain('d.lost-c');
    expect(await ns.store.requeueDispatched(['d.lost-a'])).toBe(1);
    expect(await states(ids)).toEqual(['ready', 'dispatched', 'scheduled']);
    await expect(ns.store.requeueDispatched(['bad name'])).rejects.toThrow(/funcnames\[0\]/);
  });

  it('gives back a dispatched backlog bigger than one batch', async () => {
    await ns.store.insertMany(Array.from({ length: 2_500 }, () => ({ funcname: 'd.backlog' })));
    while ((await ns.store.dispatch(1_000, async () => undefined)).published > 0);
    expect(await ns.store.requeueDispatched(['d.backlog'])).toBe(2_500);
    expect(await ns.store.findJobs({ funcname: 'd.backlog', states: ['dispatched'] })).toHaveLength(0);
    // Out of the way of the tests below, which read the oldest ready and dispatched jobs.
    await ns.pool.query("DELETE FROM jobs WHERE funcname = 'd.backlog'");
  });

  it('shares a batch among every function with ready jobs, however long one backlog is, priority first within each', async () => {
    await ns.store.insertMany(Array.from({ length: 3_000 }, (_, i) => ({ funcname: 'd.fair-big', priority: i === 2_999 ? 5 : 0 })));
    const few = (await ns.store.insertMany([{ funcname: 'd.fair-a' }, { funcname: 'd.fair-b' }, { funcname: 'd.fair-b' }])).map((r) => r.id);
    const seen: DispatchCandidate[] = [];
    // The big backlog is older and the batch far smaller than it: a read in global order would hold only its jobs.
    await ns.store.dispatch(100, async (jobs) => void seen.push(...jobs));
    expect(seen.map((j) => j.id)).toEqual(expect.arrayContaining(few));
    const big = seen.filter((j) => j.funcname === 'd.fair-big');
    expect(big.length).toBeGreaterThan(0);
    expect(big[0]!.priority).toBe(5);
    await ns.pool.query("DELETE FROM jobs WHERE funcname LIKE 'd.fair-%'");
  });

  it('reads no more ready jobs of a function that has its bound of dispatched ones, and says which field is bad', async () => {
    await ns.store.insertMany(Array.from({ length: 30 }, () => ({ funcname: 'd.bound' })));
    const first = await ns.store.dispatch(100, async () => undefined, { maxInBrokerPerFunction: 12 });
    expect(first.marked).toBe(12);
    expect((await ns.store.dispatch(100, async () => undefined, { maxInBrokerPerFunction: 12 })).published).toBe(0);
    // Claims free room, but a backlog is not trickled out a few jobs at a time: nothing is read
    // until half the bound is free, and then the room is filled.
    expect(await ns.store.claimNext('d.bound', 2, { leaseMs: 60_000 })).toHaveLength(2);
    expect((await ns.store.dispatch(100, async () => undefined, { maxInBrokerPerFunction: 12 })).published).toBe(0);
    expect(await ns.store.claimNext('d.bound', 4, { leaseMs: 60_000 })).toHaveLength(4);
    expect((await ns.store.dispatch(100, async () => undefined, { maxInBrokerPerFunction: 12 })).published).toBe(6);
    await ns.pool.query("DELETE FROM jobs WHERE funcname = 'd.bound'");
    await expect(ns.store.dispatch(100, async () => undefined, { maxInBrokerPerFunction: 0 })).rejects.toThrow(/maxInBrokerPerFunction/);
    // Near its bound, a function still gets the ready jobs that all fit in its room: no backlog is
    // waiting behind them, so holding them back would only delay them.
    await ns.store.insertMany(Array.from({ length: 12 }, () => ({ funcname: 'd.bound' })));
    expect((await ns.store.dispatch(100, async () => undefined, { maxInBrokerPerFunction: 12 })).marked).toBe(12);
    expect(await ns.store.claimNext('d.bound', 2, { leaseMs: 60_000 })).toHaveLength(2);
    await ns.store.insertMany([{ funcname: 'd.bound' }, { funcname: 'd.bound' }]);
    expect((await ns.store.dispatch(100, async () => undefined, { maxInBrokerPerFunction: 12 })).published).toBe(2);
    await ns.pool.query("DELETE FROM jobs WHERE funcname = 'd.bound'");
    // Only the ids publish returns are marked.
    await ns.store.insertMany(Array.from({ length: 30 }, () => ({ funcname: 'd.bound' })));
    const left = await ns.store.dispatch(100, async (jobs) => [jobs[0]!.id], { maxInBrokerPerFunction: 15 });
    expect(left).toMatchObject({ published: 1, marked: 1 });
    expect(await ns.store.findJobs({ funcname: 'd.bound', states: ['dispatched'] })).toHaveLength(1);
    await ns.pool.query("DELETE FROM jobs WHERE funcname = 'd.bound'");
  });

  it('re-publishes a dispatched job whose message went unclaimed for too long', async () => {
    const clock = new ManualClock(Date.UTC(2036, 0, 1));
    const relay = ns.createStore({ clock });
    const { id } = await relay.insert({ funcname: 'd.lost' });
    await relay.dispatch(1000, async () => undefined, { staleMs: 60_000 });
    clock.advance(59_000);
    const early: string[] = [];
    await relay.dispatch(1000, async (jobs) => void early.push(...jobs.map((j) => j.id)), { staleMs: 60_000 });
    expect(early).not.toContain(id);
    clock.advance(1_000);
    const late: DispatchCandidate[] = [];
    const result = await relay.dispatch(1000, async (jobs) => void late.push(...jobs), { staleMs: 60_000 });
    expect(late.find((j) => j.id === id)).toMatchObject({ state: 'dispatched' });
    expect(result.republished).toBeGreaterThanOrEqual(1);
  });
});

describe('nextDue', () => {
  it('reports the earliest due job and the earliest lease end', async () => {
    const clock = new ManualClock(Date.UTC(2020, 0, 1));
    const store = ns.createStore({ clock });
    const due = new Date(Date.UTC(2020, 0, 1, 0, 5));
    await store.insert({ funcname: 'd.next', runAfter: due });
    const { id } = await store.insert({ funcname: 'd.next-run' });
    await store.claim([id], { leaseMs: 1000 });
    const next = await store.nextDue();
    expect(next.nextDue!.getTime()).toBeLessThanOrEqual(due.getTime());
    expect(next.nextLeaseEnd!.getTime()).toBeLessThanOrEqual(clock.now().getTime() + 1000);
  });
});

describe('listen', () => {
  it('wakes a sleeping relay once per insert statement, and the scheduler for future jobs', async () => {
    const events: string[] = [];
    const listener = await ns.store.listen((what) => events.push(what));
    await ns.store.announceSleep('test-relay', true);
    try {
      await waitFor(() => events.length >= 2, { what: 'the initial wake-up' });
      events.length = 0;
      await ns.store.insertMany(Array.from({ length: 100 }, () => ({ funcname: 'd.notify' })));
      await waitFor(() => events.includes('ready'), { what: 'a ready notification' });
      await ns.store.insert({ funcname: 'd.notify', runAfter: new Date(Date.now() + 60_000) });
      await waitFor(() => events.includes('scheduled'), { what: 'a scheduled notification' });
      // A sentinel after both: notifications arrive in commit order, so any extra one would come before it.
      await ns.store.insert({ funcname: 'd.notify' });
      await waitFor(() => events.length >= 3, { what: 'the sentinel notification' });
      expect(events).toEqual(['ready', 'scheduled', 'ready']);
    } finally {
      await ns.store.announceSleep('test-relay', false);
      await listener.close();
    }
  });

  it('sends no NOTIFY for ready jobs while no relay sleeps: busy relays poll instead', async () => {
    const events: string[] = [];
    const listener = await ns.store.listen((what) => events.push(what));
    try {
      await waitFor(() => events.length >= 2, { what: 'the initial wake-up' });
      events.length = 0;
      await ns.store.insertMany([{ funcname: 'd.quiet' }, { funcname: 'd.quiet' }]);
      await ns.store.insert({ funcname: 'd.quiet' });
      expect(await ns.store.findJobs({ funcname: 'd.quiet', states: ['ready'] })).toHaveLength(3);
      // A later notification proves the channel works and that nothing came before it.
      await ns.store.insert({ funcname: 'd.quiet', runAfter: new Date(Date.now() + 60_000) });
      await waitFor(() => events.includes('scheduled'), { what: 'the scheduled notification' });
      expect(events).toEqual(['scheduled']);
    } finally {
      await listener.close();
    }
  });

  it('wakes the relay when due jobs are promoted', async () => {
    const clock = new ManualClock(Date.UTC(2037, 0, 1));
    const store = ns.createStore({ clock });
    await store.insert({ funcname: 'd.promote', runAfter: new Date(clock.now().getTime() + 1000) });
    const events: string[] = [];
    const listener = await store.listen((what) => events.push(what));
    try {
      await waitFor(() => events.length >= 2, { what: 'the initial wake-up' });
      events.length = 0;
      clock.advance(1000);
      expect(await store.promoteDue()).toBeGreaterThanOrEqual(1);
      await waitFor(() => events.includes('ready'), { what: 'a ready notification after promotion' });
    } finally {
      await listener.close();
    }
  });
});
