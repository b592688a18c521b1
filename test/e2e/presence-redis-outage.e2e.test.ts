/**
 * Redis lost, nothing lost: Redis is stopped while `drover up` and two `drover worker` processes
 * run jobs, and started again (empty: no persistence here). Jobs enqueued before and during the
 * outage all complete with no failure counted, the workers keep running, `drover workers` fails
 * cleanly while Redis is away, and both workers are listed again after it returns, without a
 * restart of any process. Stops the shared Redis: run under `flock -x /tmp/drover-svc.lock`.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { NewJob } from '@drover/core';
import { createRedisPresence } from '@drover/presence';
import { waitFor, withRedisStopped } from '@drover/testing';
import { useDrover } from './harness.js';

const HEARTBEAT_MS = 500;
const BATCH = 100;
const drover = useDrover();
const redisUrl = inject('droverServices').redisUrl;
const presence = createRedisPresence({ url: redisUrl, namespace: drover.ns.namespace });
afterAll(() => presence.close());

const env = drover.env({ REDIS_URL: redisUrl, DROVER_HEARTBEAT_MS: String(HEARTBEAT_MS) });
const batch = (tag: string): NewJob[] => Array.from({ length: BATCH }, (_, n) => ({ funcname: 'e2e.double', arg: { n, tag } }));

async function allCompleted(ids: string[]): Promise<boolean> {
  const jobs = await Promise.all(ids.map((id) => drover.ns.store.getJob(id)));
  return jobs.every((j) => j?.state === 'completed');
}

describe('presence across a Redis outage', () => {
  it('loses no job and fails none while Redis is down, and lists the workers again once it is back', async () => {
    drover.processes.start(['up'], env);
    const workers = [drover.processes.start(['worker', 'test/fixtures/handlers.ts'], env), drover.processes.start(['worker', 'test/fixtures/handlers.ts'], env)];
    await waitFor(async () => (await presence.list()).length === 2, { timeoutMs: 60_000, intervalMs: 100, what: 'both workers announced' });

    const before = (await drover.ns.store.insertMany(batch('before'))).map((r) => r.id);
    const during: string[] = [];
    await withRedisStopped(redisUrl, async () => {
      during.push(...(await drover.ns.store.insertMany(batch('during'))).map((r) => r.id));
      // The jobs run while Redis is away: presence is not on the job's path.
      await waitFor(() => allCompleted([...before, ...during]), { timeoutMs: 60_000, intervalMs: 200, what: 'every job to complete with Redis down' });
      const listing = await drover.processes.run(['workers'], env);
      expect(listing.code).toBe(1);
      expect(listing.stderr).toMatch(/^drover: /);
    });

    // Redis came back empty: the workers' next heartbeats fill it again.
    await waitFor(async () => (await presence.list()).map((w) => w.pid).sort().join() === workers.map((w) => w.child.pid).sort().join(), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'both workers listed again after Redis returned',
    });
    const after = (await drover.ns.store.insertMany(batch('after'))).map((r) => r.id);
    await waitFor(() => allCompleted(after), { timeoutMs: 60_000, intervalMs: 200, what: 'jobs enqueued after the outage to complete' });

    const jobs = await Promise.all([...before, ...during, ...after].map((id) => drover.ns.store.getJob(id)));
    expect(jobs.filter((j) => j?.state !== 'completed' || j.failures !== 0)).toEqual([]);
    for (const w of workers) expect(w.child.exitCode).toBeNull();
  });
});
