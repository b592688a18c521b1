/**
 * Role: CallerStore — a JSON-RPC caller's waits: jobs marked awaited are announced on
 * `<schema>_finished` once per statement that finishes them (migration 0007), jobs nobody awaits
 * are not, outcomes are read in one batch, and job ids are found by argument containment; jobs
 * inserted for an API client are its own (migration 0008), through their life and trim.
 * Runs on both adapters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FinishedEvent } from '@drover/core';
import { useTestNamespace, waitFor } from '@drover/testing';
import { insertAndClaim } from './helpers.js';

const ns = useTestNamespace();
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** Listens for finished jobs; returns the events heard so far. */
async function listen(): Promise<FinishedEvent[]> {
  const events: FinishedEvent[] = [];
  const listener = await ns.store.listenFinished((event) => events.push(event));
  closers.push(() => listener.close());
  await waitFor(() => events.some((e) => e.kind === 'connected'), { what: 'the listener to connect' });
  return events;
}

const announced = (events: FinishedEvent[]): string[] => events.flatMap((e) => (e.kind === 'finished' ? e.ids : []));

describe('caller store', () => {
  it('announces an awaited job when it finishes, and not a job nobody awaits', async () => {
    const events = await listen();
    const unawaited = await insertAndClaim(ns.store, { funcname: 'c.plain', arg: { n: 1 } });
    const { id } = await ns.store.insertFor('caller', { funcname: 'c.call', arg: { n: 2 } }, { awaited: true });
    const [claimed] = await ns.store.claim([id], { leaseMs: 30_000 });
    await ns.store.complete(unawaited);
    await ns.store.complete({ ...claimed!, result: { sum: 3 } });
    // Notifications arrive in commit order: once the awaited one is heard, the other would have been.
    await waitFor(() => announced(events).includes(id), { what: 'the awaited job to be announced' });
    expect(announced(events)).toEqual([id]);
    expect(await ns.store.finishedOutcomes([id, unawaited.id])).toEqual(
      expect.arrayContaining([
        { id, state: 'completed', result: { sum: 3 }, error: null },
        { id: unawaited.id, state: 'completed', result: null, error: null },
      ]),
    );
    // The mark is taken with the announcement: the table holds only jobs still awaited.
    expect((await ns.pool.query('SELECT id::text FROM awaited_jobs WHERE id = $1', [id])).rows).toEqual([]);
  });

  it('announces the jobs one statement finishes in one notification, chunked under the payload limit', async () => {
    const events = await listen();
    const inserted = await ns.store.insertMany(Array.from({ length: 650 }, (_, n) => ({ funcname: 'c.batch', arg: { n } })));
    const ids = inserted.map((r) => r.id);
    expect((await ns.store.awaitJobs(ids)).sort()).toEqual([...ids].sort());
    const claimed = await ns.store.claim(ids, { leaseMs: 30_000 });
    await ns.store.completeMany(claimed);
    await waitFor(() => announced(events).length >= 650, { what: 'all 650 to be announced' });
    expect(new Set(announced(events))).toEqual(new Set(ids));
    // 300 ids per notification: 650 ids are three, not 650.
    expect(events.filter((e) => e.kind === 'finished')).toHaveLength(3);
  });

  it('marks only live jobs, and tells failed and cancelled outcomes apart', async () => {
    const events = await listen();
    const failing = await ns.store.insertFor('caller', { funcname: 'c.fail', arg: {}, maxRetries: 0 }, { awaited: true });
    const [grab] = await ns.store.claim([failing.id], { leaseMs: 30_000 });
    await ns.store.fail({ ...grab!, error: 'boom: the disk is full', retryDelayMs: 0 });
    const cancelled = await ns.store.insert({ funcname: 'c.cancel', arg: {} });
    expect(await ns.store.awaitJobs([cancelled.id, failing.id, '999999999'])).toEqual([cancelled.id]);
    await ns.store.cancel(cancelled.id);
    await waitFor(() => announced(events).length === 2, { what: 'both to be announced' });
    expect(new Set(announced(events))).toEqual(new Set([failing.id, cancelled.id]));
    const outcomes = await ns.store.finishedOutcomes([failing.id, cancelled.id]);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        { id: failing.id, state: 'failed', result: null, error: 'boom: the disk is full' },
        { id: cancelled.id, state: 'cancelled', result: null, error: null },
      ]),
    );
  });

  it('finds ids by containment over live and finished jobs, newest first, in pages', async () => {
    const a = await ns.store.insert({ funcname: 'c.find', arg: { order: { customer: 41 }, tag: 'x' } });
    const b = await insertAndClaim(ns.store, { funcname: 'c.find2', arg: { order: { customer: 41, lines: 3 } } });
    await ns.store.complete(b);
    const c = await ns.store.insert({ funcname: 'c.find', arg: { order: { customer: 42 } } });
    const found = await ns.store.findJobIds({ order: { customer: 41 } }, { limit: 10 });
    expect(found).toEqual([
      { id: b.id, funcname: 'c.find2' },
      { id: a.id, funcname: 'c.find' },
    ]);
    expect(await ns.store.findJobIds({ order: { customer: 41 } }, { limit: 1, beforeId: b.id })).toEqual([{ id: a.id, funcname: 'c.find' }]);
    expect((await ns.store.findJobIds({ order: { customer: 42 } }, { limit: 10 })).map((j) => j.id)).toEqual([c.id]);
    await expect(ns.store.findJobIds({ x: 1 }, { limit: 1001 })).rejects.toThrow(/^limit: /);
    await expect(ns.store.awaitJobs(['x'])).rejects.toThrow(/^ids\[0\]: /);
  });

  it("records an API client's jobs as its own, through retries and moves, and finds only those for it", async () => {
    const [mine, alsoMine] = await ns.store.insertManyFor('alice', [
      { funcname: 'c.own', arg: { order: 7 } },
      { funcname: 'c.own', arg: { order: 7, rush: true }, uniqkey: 'own-1' },
    ]);
    const theirs = await ns.store.insertFor('bob', { funcname: 'c.own', arg: { order: 7 } });
    const anonymous = await ns.store.insert({ funcname: 'c.own', arg: { order: 7 } });
    // A duplicate of alice's uniqkey is alice's job: bob is told its id but does not own it.
    const duplicate = await ns.store.insertFor('bob', { funcname: 'c.own', arg: {}, uniqkey: 'own-1' });
    expect(duplicate).toEqual({ id: alsoMine!.id, inserted: false });
    const all = [mine!.id, alsoMine!.id, theirs.id, anonymous.id];
    expect((await ns.store.ownedBy('alice', all)).sort()).toEqual([mine!.id, alsoMine!.id].sort());
    expect(await ns.store.ownedBy('bob', all)).toEqual([theirs.id]);
    // Finished, then retried: the job keeps its id, and its owner.
    const [grab] = await ns.store.claim([mine!.id], { leaseMs: 30_000 });
    await ns.store.fail({ ...grab!, error: 'no', retryDelayMs: 0, permanent: true });
    expect(await ns.store.ownedBy('alice', [mine!.id])).toEqual([mine!.id]);
    expect((await ns.store.findJobIds({ order: 7 }, { limit: 10, owner: 'alice' })).map((j) => j.id)).toEqual([alsoMine!.id, mine!.id]);
    expect((await ns.store.findJobIds({ order: 7 }, { limit: 10 })).map((j) => j.id)).toEqual([anonymous.id, theirs.id, alsoMine!.id, mine!.id]);
    expect((await ns.store.findJobs({ funcname: 'c.own', owner: 'bob' })).map((j) => j.id)).toEqual([theirs.id]);
    await ns.store.retry(mine!.id);
    expect(await ns.store.ownedBy('alice', [mine!.id])).toEqual([mine!.id]);
  });

  it('forgets the owner of a job completed with nothing kept', async () => {
    const { id } = await ns.store.insertFor('dave', { funcname: 'c.forget', arg: {} });
    const [grab] = await ns.store.claim([id], { leaseMs: 30_000 });
    await ns.store.complete({ ...grab!, keepForMs: 0 });
    expect(await ns.store.getJob(id)).toBeNull();
    expect((await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM job_owners WHERE job_id = $1', [id])).rows[0]?.n).toBe(0);
  });

  it('refuses a job it would not insert, and a missing owner, writing nothing', async () => {
    const before = await ns.store.countLive();
    await expect(ns.store.insertManyFor('carol', [{ funcname: 'c.ok', arg: {} }, { funcname: '', arg: {} }])).rejects.toThrow(/^jobs\[1\]\.funcname: /);
    await expect(ns.store.insertFor('', { funcname: 'c.ok', arg: {} })).rejects.toThrow(/^who: /);
    await expect(ns.store.findJobIds({ x: 1 }, { limit: 1, owner: '' })).rejects.toThrow(/^who: /);
    expect(await ns.store.countLive()).toBe(before);
    expect((await ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM job_owners WHERE who = 'carol'")).rows[0]?.n).toBe(0);
  });
});
