import { describe, expect, it } from 'vitest';
import { ManualClock, silentLogger } from '@drover/core';
import { useTestNamespace, waitFor } from '@drover/testing';
import { createScheduler, expireLeases, promoteDueJobs, trimFinishedJobs } from '../src/index.js';

const ns = useTestNamespace();

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
      await new Promise((resolve) => setTimeout(resolve, 100));
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
