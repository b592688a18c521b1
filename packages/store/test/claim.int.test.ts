/**
 * Role: WorkerStore — the claims (`claim`, `claimNext`, `claimCoalesced`, the claim half of
 * `completeAndClaim`) and `heartbeat`. Runs on both adapters.
 */
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '@drover/testing';
import { insertAndClaim } from './helpers.js';

const ns = useTestNamespace();
const LEASE = { leaseMs: 60_000 };

describe('claim', () => {
  it('lets 50 concurrent claimers over the same 1,000 ready jobs claim each exactly once', async () => {
    const ids = (await ns.store.insertMany(Array.from({ length: 1000 }, (_, i) => ({ funcname: 'claim.race', arg: i })))).map((r) => r.id);
    // One connection per claimer, so that the 50 really run at once in PostgreSQL.
    const store = ns.createStore({ max: 50 });
    const claimedBy = await Promise.all(
      Array.from({ length: 50 }, async (_, claimer) => {
        const mine: string[] = [];
        // Half the claimers pull the next jobs; the other half race for ids in batches, in a
        // claimer-specific order, as workers do when messages are duplicated.
        if (claimer % 2 === 0) {
          for (;;) {
            const batch = await store.claimNext('claim.race', 7, LEASE);
            if (batch.length === 0) break;
            mine.push(...batch.map((j) => j.id));
          }
        } else {
          const order = ids.map((id, i) => ({ id, key: (i * (claimer + 13)) % 1009 })).sort((a, b) => a.key - b.key).map((x) => x.id);
          for (let i = 0; i < order.length; i += 25) mine.push(...(await store.claim(order.slice(i, i + 25), LEASE)).map((j) => j.id));
        }
        return mine;
      }),
    );
    const all = claimedBy.flat();
    expect(all).toHaveLength(1000);
    expect(new Set(all)).toEqual(new Set(ids));
    const { rows } = await ns.pool.query("SELECT count(*)::int AS n, count(DISTINCT grab_token)::int AS tokens, max(attempts) AS max FROM jobs WHERE funcname = 'claim.race' AND state = 'running'");
    expect(rows[0]).toEqual({ n: 1000, tokens: 1000, max: 1 });
  });

  it('completes and claims in one call, each part fenced as on its own', async () => {
    const done = await insertAndClaim(ns.store, { funcname: 'claim.both' });
    const stale = await insertAndClaim(ns.store, { funcname: 'claim.both' });
    const busy = await insertAndClaim(ns.store, { funcname: 'claim.both' });
    const { id: next } = await ns.store.insert({ funcname: 'claim.both' });
    const { completed, claimed } = await ns.store.completeAndClaim({
      completions: [{ id: done.id, grabToken: done.grabToken, result: 'ok' }, { id: stale.id, grabToken: '1' }],
      claims: [{ id: next, leaseMs: 5_000 }, { id: busy.id, leaseMs: 5_000 }],
    });
    expect(completed).toEqual([{ id: done.id, accepted: true }, { id: stale.id, accepted: false }]);
    expect(claimed.map((j) => j.id)).toEqual([next]);
    expect(claimed[0]!.grabbedUntil.getTime() - Date.now()).toBeLessThanOrEqual(5_000);
    expect(await ns.store.getJob(done.id)).toMatchObject({ state: 'completed', result: 'ok' });
    expect(await ns.store.getJob(busy.id)).toMatchObject({ state: 'running', attempts: 1 });
    await expect(ns.store.completeAndClaim({ claims: [{ id: next, leaseMs: 0 }] })).rejects.toMatchObject({ field: 'leaseMs' });
  });

  it('gives each claim a fresh grab token and a lease', async () => {
    const before = Date.now();
    const first = await insertAndClaim(ns.store, { funcname: 'claim.token' }, 45_000);
    expect(first.grabToken).toMatch(/^\d+$/);
    expect(first.grabbedUntil.getTime()).toBeGreaterThanOrEqual(before + 44_000);
    expect(first.attempts).toBe(1);
    // Declined and claimed again: a new token, and the old one is worthless.
    await ns.store.decline({ id: first.id, grabToken: first.grabToken });
    const [second] = await ns.store.claim([first.id], LEASE);
    expect(second!.grabToken).not.toBe(first.grabToken);
    expect(second!.attempts).toBe(2);
    expect((await ns.store.complete({ id: first.id, grabToken: first.grabToken })).accepted).toBe(false);
  });

  it('claims nothing that is not ready: scheduled, running, finished or unknown', async () => {
    const later = await ns.store.insert({ funcname: 'claim.not', runAfter: new Date(Date.now() + 60_000) });
    const running = await insertAndClaim(ns.store, { funcname: 'claim.not' });
    const done = await insertAndClaim(ns.store, { funcname: 'claim.not' });
    await ns.store.complete({ id: done.id, grabToken: done.grabToken });
    expect(await ns.store.claim([later.id, running.id, done.id, '999999999'], LEASE)).toEqual([]);
  });

  it('claims the next jobs by priority, then by due time', async () => {
    const jobs = await ns.store.insertMany([
      { funcname: 'claim.order', arg: 'low', priority: -5 },
      { funcname: 'claim.order', arg: 'old', runAfter: new Date(Date.now() - 60_000) },
      { funcname: 'claim.order', arg: 'new' },
      { funcname: 'claim.order', arg: 'urgent', priority: 50 },
    ]);
    expect(jobs).toHaveLength(4);
    const claimed = await ns.store.claimNext('claim.order', 10, LEASE);
    expect(claimed.map((j) => j.arg)).toEqual(['urgent', 'old', 'new', 'low']);
  });

  it('claims more jobs with the same coalesce value, and only those', async () => {
    await ns.store.insertMany([
      { funcname: 'claim.mail', arg: 1, coalesce: 'example.com' },
      { funcname: 'claim.mail', arg: 2, coalesce: 'example.org' },
      { funcname: 'claim.mail', arg: 3, coalesce: 'example.com' },
      { funcname: 'claim.other', arg: 4, coalesce: 'example.com' },
    ]);
    const claimed = await ns.store.claimCoalesced('claim.mail', 'example.com', 10, LEASE);
    expect(claimed.map((j) => j.arg).sort()).toEqual([1, 3]);
    expect(await ns.store.claimCoalesced('claim.mail', 'example.com', 10, LEASE)).toEqual([]);
  });

  it('extends a lease with a heartbeat, and refuses one with a stale token', async () => {
    const job = await insertAndClaim(ns.store, { funcname: 'claim.heartbeat' }, 1000);
    const [beat] = await ns.store.heartbeat([job], { leaseMs: 120_000 });
    expect(beat).toEqual({ id: job.id, accepted: true });
    expect((await ns.store.getJob(job.id))!.grabbedUntil!.getTime()).toBeGreaterThan(Date.now() + 100_000);
    const [stale] = await ns.store.heartbeat([{ id: job.id, grabToken: '1' }], { leaseMs: 120_000 });
    expect(stale!.accepted).toBe(false);
  });

  it('rejects a bad lease, naming it', async () => {
    await expect(ns.store.claim(['1'], { leaseMs: 0 })).rejects.toMatchObject({ field: 'leaseMs' });
    await expect(ns.store.claim(['abc'], LEASE)).rejects.toMatchObject({ field: 'ids[0]' });
  });
});
