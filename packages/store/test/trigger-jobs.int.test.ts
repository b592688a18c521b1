/**
 * Role: TriggerStore.triggerJobs — the jobs a trigger created, live and finished, newest first, a
 * page at a time, read by the trigger_id indexes of migration 0011. Runs on both adapters; the
 * plan check is in trigger-jobs.pg.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();
const LEASE = { leaseMs: 60_000 };

describe('triggerJobs', () => {
  it('lists the jobs a trigger created, live and finished, newest first, and no other job', async () => {
    const trigger = await ns.store.createTrigger({ spec: '@client', funcname: 'tj.mine' });
    const other = await ns.store.createTrigger({ spec: '@client', funcname: 'tj.mine' });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await ns.store.launchTrigger(trigger.id))!.jobId);
    await ns.store.launchTrigger(other.id);
    // Same function, no trigger: not the trigger's.
    await ns.store.insert({ funcname: 'tj.mine' });
    // One finished by a worker, one cancelled: both moved to finished_jobs.
    const [claimed] = await ns.store.claim([ids[1]!], LEASE);
    await ns.store.complete({ id: ids[1]!, grabToken: claimed!.grabToken, result: { ok: true } });
    await ns.store.cancel(ids[2]!);

    const jobs = await ns.store.triggerJobs(trigger.id);
    expect(jobs.map((j) => j.id)).toEqual([...ids].reverse());
    expect(jobs.map((j) => j.state)).toEqual(['ready', 'cancelled', 'completed', 'ready']);
    expect(jobs.find((j) => j.id === ids[1])).toMatchObject({ result: { ok: true }, finishedAt: expect.any(Date) });

    expect((await ns.store.triggerJobs(trigger.id, { limit: 2 })).map((j) => j.id)).toEqual([ids[3], ids[2]]);
    expect((await ns.store.triggerJobs(trigger.id, { beforeId: ids[2]!, limit: 1 })).map((j) => j.id)).toEqual([ids[1]]);
    // They outlive the trigger.
    await ns.store.deleteTrigger(trigger.id);
    expect(await ns.store.triggerJobs(trigger.id)).toHaveLength(4);
    expect(await ns.store.triggerJobs('987654321')).toEqual([]);
  });

  it('refuses a bad id, page or limit naming it', async () => {
    await expect(ns.store.triggerJobs('abc')).rejects.toMatchObject({ field: 'id' });
    await expect(ns.store.triggerJobs('1', { beforeId: '-1' })).rejects.toBeInstanceOf(ValidationError);
    await expect(ns.store.triggerJobs('1', { beforeId: 'x' })).rejects.toMatchObject({ field: 'beforeId' });
    await expect(ns.store.triggerJobs('1', { limit: 0 })).rejects.toMatchObject({ field: 'limit' });
    await expect(ns.store.triggerJobs('1', { limit: 1001 })).rejects.toMatchObject({ field: 'limit' });
  });
});
