/**
 * Role: ProducerStore — `insert`, `insertMany`, uniqkeys. The last describe, namespaces, is about
 * the adapter (one schema per namespace), not a role. Runs on both adapters.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '@drover/core';
import { useTestNamespace } from '@drover/testing';
import { countRows } from './helpers.js';

const ns = useTestNamespace();

describe('insert', () => {
  it('stores every field and makes a due job ready, a future one scheduled', async () => {
    const runAfter = new Date(Date.now() + 3_600_000);
    const { id, inserted } = await ns.store.insert({
      funcname: 'insert.fields', arg: { to: 'a@example.com', n: [1, 2] }, uniqkey: 'k1', runAfter,
      priority: 7, coalesce: 'example.com', maxRetries: 3, timeoutMs: 5000,
    });
    expect(inserted).toBe(true);
    const job = await ns.store.getJob(id);
    expect(job).toMatchObject({
      id, funcname: 'insert.fields', arg: { to: 'a@example.com', n: [1, 2] }, uniqkey: 'k1', state: 'scheduled', runAfter,
      priority: 7, coalesce: 'example.com', maxRetries: 3, timeoutMs: 5000, attempts: 0, failures: 0, failureLog: [],
    });
    const now = await ns.store.insert({ funcname: 'insert.fields' });
    expect((await ns.store.getJob(now.id))).toMatchObject({ state: 'ready', arg: null, maxRetries: 15 });
  });

  it('inserts a batch in one round trip, returning ids in input order', async () => {
    const results = await ns.store.insertMany(Array.from({ length: 500 }, (_, i) => ({ funcname: 'insert.batch', arg: { i } })));
    expect(results).toHaveLength(500);
    const jobs = await Promise.all([0, 250, 499].map((i) => ns.store.getJob(results[i]!.id)));
    expect(jobs.map((j) => j?.arg)).toEqual([{ i: 0 }, { i: 250 }, { i: 499 }]);
  });

  it('returns the live job for a duplicate uniqkey and inserts nothing', async () => {
    const first = await ns.store.insert({ funcname: 'insert.uniq', uniqkey: 'same', arg: 1 });
    const before = await countRows(ns.pool, 'jobs');
    const second = await ns.store.insert({ funcname: 'insert.uniq', uniqkey: 'same', arg: 2 });
    expect(second).toEqual({ id: first.id, inserted: false });
    expect(await countRows(ns.pool, 'jobs')).toBe(before);
    expect((await ns.store.getJob(first.id))?.arg).toBe(1);
    // The key is per function: another function may use it.
    expect((await ns.store.insert({ funcname: 'insert.other', uniqkey: 'same' })).inserted).toBe(true);
  });

  it('resolves duplicates inside one batch to the first one', async () => {
    const results = await ns.store.insertMany([
      { funcname: 'insert.twin', uniqkey: 'a', arg: 'first' },
      { funcname: 'insert.twin', uniqkey: 'b' },
      { funcname: 'insert.twin', uniqkey: 'a', arg: 'second' },
    ]);
    expect(results[0]!.inserted).toBe(true);
    expect(results[2]).toEqual({ id: results[0]!.id, inserted: false });
    expect((await ns.store.getJob(results[0]!.id))?.arg).toBe('first');
  });

  it('gives all of 20 concurrent inserts of one key the same id, with one row', async () => {
    const stores = Array.from({ length: 4 }, () => ns.createStore({ max: 5 }));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % stores.length]!.insert({ funcname: 'insert.race', uniqkey: 'hot', arg: i })),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => r.inserted)).toHaveLength(1);
    const { rows } = await ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE funcname = 'insert.race'");
    expect(rows[0]?.n).toBe(1);
  });

  it('lets concurrent batches of the same keys in opposite orders finish without deadlock', async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => ({ funcname: 'insert.order', uniqkey: `k${i}` }));
    const stores = [ns.createStore({ max: 1 }), ns.createStore({ max: 1 })];
    for (let round = 0; round < 3; round++) {
      const batch = keys.map((k) => ({ ...k, uniqkey: `${k.uniqkey}-${round}` }));
      const [forward, backward] = await Promise.all([stores[0]!.insertMany(batch), stores[1]!.insertMany([...batch].reverse())]);
      expect(forward.map((r) => r.id)).toEqual(backward.map((r) => r.id).reverse());
      expect(forward.filter((r) => r.inserted).length + backward.filter((r) => r.inserted).length).toBe(2000);
    }
  });

  it('holds the key only while the job is live', async () => {
    const first = await ns.store.insert({ funcname: 'insert.again', uniqkey: 'once' });
    expect(await ns.store.cancel(first.id)).toBe(true);
    const second = await ns.store.insert({ funcname: 'insert.again', uniqkey: 'once' });
    expect(second.inserted).toBe(true);
    expect(second.id).not.toBe(first.id);
  });

  it.each([
    ['a funcname with a space', { funcname: 'send email' }, 'jobs[1].funcname'],
    ['a 300-character funcname', { funcname: 'f'.repeat(300) }, 'jobs[1].funcname'],
    ['an arg that is not JSON-serialisable', { funcname: 'ok', arg: { big: 10n } }, 'jobs[1].arg.big'],
    ['a priority out of range', { funcname: 'ok', priority: 1000 }, 'jobs[1].priority'],
    ['a run_after that is not a date', { funcname: 'ok', runAfter: 'next tuesday' }, 'jobs[1].runAfter'],
  ])('rejects %s naming the field, and writes nothing', async (_what, bad, field) => {
    const before = await countRows(ns.pool, 'jobs');
    const error = await ns.store.insertMany([{ funcname: 'ok' }, bad as never]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect((error as Error).message).toContain(field);
    expect(await countRows(ns.pool, 'jobs')).toBe(before);
  });

  it('names the bare field for a single insert', async () => {
    await expect(ns.store.insert({ funcname: 'bad name' })).rejects.toMatchObject({ field: 'funcname' });
  });
});

describe('namespaces', () => {
  const other = useTestNamespace();

  it('are invisible to each other in one database', async () => {
    const mine = await ns.store.insert({ funcname: 'ns.shared', uniqkey: 'k', arg: 'mine' });
    const theirs = await other.store.insert({ funcname: 'ns.shared', uniqkey: 'k', arg: 'theirs' });
    // The same key is free in each namespace, and neither store can see, claim or count the other's job.
    expect(theirs.inserted).toBe(true);
    // Ids come from each schema's own sequence; this file inserted many jobs before, so they differ.
    expect(theirs.id).not.toBe(mine.id);
    expect(await other.store.getJob(mine.id)).toBeNull();
    expect(await other.store.claim([mine.id], { leaseMs: 1000 })).toEqual([]);
    expect((await other.store.findJobs({ funcname: 'ns.shared' })).map((j) => j.arg)).toEqual(['theirs']);
    expect((await ns.store.findJobs({ funcname: 'ns.shared' })).map((j) => j.arg)).toEqual(['mine']);
    expect(await other.store.cancel(mine.id)).toBe(false);
    expect((await ns.store.getJob(mine.id))?.state).toBe('ready');
  });
});
