/**
 * Role: AdminStore — the reads `getJob`, `findJobs`, `counts` (and the adapter's own `countLive`).
 * Runs on both adapters.
 */
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '@drover/testing';
import { insertAndClaim } from './helpers.js';

const ns = useTestNamespace();

describe('reads', () => {
  it('finds jobs by state, funcname and JSON containment of arg, newest first, in pages', async () => {
    const inserted = await ns.store.insertMany([
      { funcname: 'r.mail', arg: { user: 7, kind: 'welcome' } },
      { funcname: 'r.mail', arg: { user: 8, kind: 'welcome' } },
      { funcname: 'r.mail', arg: { user: 7, kind: 'reset' } },
      { funcname: 'r.sms', arg: { user: 7, kind: 'welcome' } },
    ]);
    const done = await insertAndClaim(ns.store, { funcname: 'r.mail', arg: { user: 7, kind: 'bye' } });
    await ns.store.complete(done);

    const user7 = await ns.store.findJobs({ funcname: 'r.mail', argContains: { user: 7 } });
    expect(user7.map((j) => j.arg)).toEqual([{ user: 7, kind: 'bye' }, { user: 7, kind: 'reset' }, { user: 7, kind: 'welcome' }]);
    expect((await ns.store.findJobs({ states: ['completed'], funcname: 'r.mail' })).map((j) => j.id)).toEqual([done.id]);
    expect((await ns.store.findJobs({ argContains: { kind: 'welcome' } })).map((j) => j.funcname).sort()).toEqual(['r.mail', 'r.mail', 'r.sms']);

    const page1 = await ns.store.findJobs({ funcname: 'r.mail', limit: 2 });
    const page2 = await ns.store.findJobs({ funcname: 'r.mail', limit: 2, beforeId: page1[1]!.id });
    expect([...page1, ...page2].map((j) => j.id)).toEqual([done.id, inserted[2]!.id, inserted[1]!.id, inserted[0]!.id]);
  });

  it('pages through ids in numeric order across a digit boundary', async () => {
    // A fresh namespace starts ids at 1; twelve jobs cross from 9 to 10 and 12.
    const fresh = ns.createStore();
    const own = (await fresh.insertMany(Array.from({ length: 12 }, () => ({ funcname: 'r.page' })))).map((r) => r.id);
    const seen: string[] = [];
    let beforeId: string | undefined;
    for (;;) {
      const page = await fresh.findJobs({ funcname: 'r.page', limit: 4, ...(beforeId ? { beforeId } : {}) });
      if (page.length === 0) break;
      seen.push(...page.map((j) => j.id));
      beforeId = page.at(-1)!.id;
    }
    expect(seen).toEqual([...own].sort((a, b) => Number(b) - Number(a)));
  });

  it('rejects bad filters, naming them', async () => {
    await expect(ns.store.findJobs({ states: ['done' as never] })).rejects.toMatchObject({ field: 'states[0]' });
    await expect(ns.store.findJobs({ funcname: 'has space' })).rejects.toMatchObject({ field: 'funcname' });
    await expect(ns.store.findJobs({ limit: 5000 })).rejects.toMatchObject({ field: 'limit' });
  });

  it('counts jobs per function and state, live and finished', async () => {
    await ns.store.insertMany([{ funcname: 'r.count' }, { funcname: 'r.count' }, { funcname: 'r.count', runAfter: new Date(Date.now() + 60_000) }]);
    const job = await insertAndClaim(ns.store, { funcname: 'r.count' });
    await ns.store.complete(job);
    const counts = (await ns.store.counts()).filter((c) => c.funcname === 'r.count');
    expect(counts).toEqual([
      { funcname: 'r.count', state: 'completed', count: 1 },
      { funcname: 'r.count', state: 'ready', count: 2 },
      { funcname: 'r.count', state: 'scheduled', count: 1 },
    ]);
  });

  it('counts live jobs from the hot table', async () => {
    const before = await ns.store.countLive();
    const job = await insertAndClaim(ns.store, { funcname: 'r.live' });
    await ns.store.insert({ funcname: 'r.live', runAfter: new Date(Date.now() + 60_000) });
    expect(await ns.store.countLive()).toBe(before + 2);
    await ns.store.complete(job);
    expect(await ns.store.countLive()).toBe(before + 1);
  });

  it('returns null for an unknown job, and names an id that is no job id', async () => {
    expect(await ns.store.getJob('424242424242')).toBeNull();
    await expect(ns.store.getJob('9223372036854775808')).rejects.toMatchObject({ field: 'id' });
    await expect(ns.store.getJob('12ab')).rejects.toMatchObject({ field: 'id' });
  });
});
