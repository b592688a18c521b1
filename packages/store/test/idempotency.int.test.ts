/**
 * Role: ProducerStore — inserts with idempotency keys; and SchedulerStore's `trimIdempotencyKeys`,
 * which ends a key's retention. Runs on both adapters.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, ValidationError } from '@drover/core';
import { useTestNamespace } from '@drover/testing';
import { countRows } from './helpers.js';

const ns = useTestNamespace();
const HOUR = 3_600_000;

async function jobsOf(funcname: string): Promise<number> {
  const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM all_jobs WHERE funcname = $1', [funcname]);
  return rows[0]!.n;
}

describe('idempotency keys', () => {
  it('two concurrent inserts with one key make one job', async () => {
    const other = ns.createStore();
    const results = await Promise.all([
      ns.store.insert({ funcname: 'idem.race', idempotencyKey: 'race-1' }),
      other.insert({ funcname: 'idem.race', idempotencyKey: 'race-1' }),
      ns.store.insertMany([{ funcname: 'idem.race', idempotencyKey: 'race-1' }]).then(([r]) => r!),
    ]);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => r.inserted)).toHaveLength(1);
    expect(await jobsOf('idem.race')).toBe(1);
  });

  it('a key repeated in one batch inserts its job once; jobs without keys in the batch are inserted', async () => {
    const results = await ns.store.insertMany([
      { funcname: 'idem.batch', idempotencyKey: 'batch-1' },
      { funcname: 'idem.batch' },
      { funcname: 'idem.batch', idempotencyKey: 'batch-1' },
    ]);
    expect(results[0]).toMatchObject({ inserted: true });
    expect(results[1]).toMatchObject({ inserted: true });
    expect(results[2]).toEqual({ id: results[0]!.id, inserted: false });
    expect(await jobsOf('idem.batch')).toBe(2);
  });

  it('the same key after the job completed returns its id and inserts nothing; after the retention and the trim, a new job', async () => {
    const clock = new ManualClock(Date.UTC(2044, 0, 1));
    const store = ns.createStore({ clock, idempotencyKeyRetentionMs: 2 * HOUR });
    const first = await store.insert({ funcname: 'idem.done', idempotencyKey: 'done-1' });
    const [claimed] = await store.claim([first.id], { leaseMs: 60_000 });
    await store.complete({ id: first.id, grabToken: claimed!.grabToken, result: 'ok' });
    clock.advance(HOUR);
    expect(await store.insert({ funcname: 'idem.done', idempotencyKey: 'done-1' })).toEqual({ id: first.id, inserted: false });
    expect((await store.getJob(first.id))?.state).toBe('completed');
    expect(await jobsOf('idem.done')).toBe(1);
    // Before the retention ends the trim keeps the key (it does trim other tests' keys, made by the real clock).
    await store.trimIdempotencyKeys();
    expect(await store.insert({ funcname: 'idem.done', idempotencyKey: 'done-1' })).toEqual({ id: first.id, inserted: false });
    clock.advance(HOUR);
    expect(await store.trimIdempotencyKeys()).toBeGreaterThanOrEqual(1);
    const again = await store.insert({ funcname: 'idem.done', idempotencyKey: 'done-1' });
    expect(again.inserted).toBe(true);
    expect(again.id).not.toBe(first.id);
    expect(await jobsOf('idem.done')).toBe(2);
  });

  it('a key whose insert met a live uniqkey holder names the holder', async () => {
    const holder = await ns.store.insert({ funcname: 'idem.uniq', uniqkey: 'u' });
    const keyed = await ns.store.insert({ funcname: 'idem.uniq', uniqkey: 'u', idempotencyKey: 'uniq-1' });
    expect(keyed).toEqual({ id: holder.id, inserted: false });
    const [claimed] = await ns.store.claim([holder.id], { leaseMs: 60_000 });
    await ns.store.complete({ id: holder.id, grabToken: claimed!.grabToken });
    // The uniqkey is free now, but the key still says the enqueue was served by the holder.
    expect(await ns.store.insert({ funcname: 'idem.uniq', uniqkey: 'u', idempotencyKey: 'uniq-1' })).toEqual({ id: holder.id, inserted: false });
    expect(await jobsOf('idem.uniq')).toBe(1);
  });

  it('refuses a bad key naming the field, and writes nothing', async () => {
    const before = await countRows(ns.pool, 'jobs');
    for (const [key, field] of [['', 'idempotencyKey'], ['x'.repeat(256), 'idempotencyKey'], ['a\u0000b', 'idempotencyKey'], ['\uD800', 'idempotencyKey'], [7, 'idempotencyKey']] as const) {
      await expect(ns.store.insert({ funcname: 'idem.bad', idempotencyKey: key as string })).rejects.toMatchObject({ name: 'ValidationError', field });
    }
    await expect(ns.store.insertMany([{ funcname: 'idem.bad' }, { funcname: 'idem.bad', idempotencyKey: '' }])).rejects.toThrow(ValidationError);
    await expect(ns.store.insertMany([{ funcname: 'idem.bad' }, { funcname: 'idem.bad', idempotencyKey: '' }])).rejects.toMatchObject({ field: 'jobs[1].idempotencyKey' });
    expect(await countRows(ns.pool, 'jobs')).toBe(before);
  });
});
