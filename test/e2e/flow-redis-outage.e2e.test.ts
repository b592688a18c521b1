/**
 * Redis stopped and started mid-run, under real processes: limited functions pause (fail closed),
 * unlimited ones run on, no job is lost or failed, and the limit holds again once Redis is back.
 * It stops the shared Redis, so run it alone:
 * (`flock -x /tmp/drover-svc.lock npx vitest run test/e2e/flow-redis-outage.e2e.test.ts`).
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor, withRedisStopped } from '@drover/testing';
import { maxInWindow, sampleGrants, useFlowDrover } from './flow-harness.js';

const drover = useFlowDrover();

beforeAll(async () => {
  drover.startUp();
  drover.startWorker();
  drover.startWorker();
  const { id } = await drover.client.enqueue({ funcname: 'flow.free' });
  await waitFor(async () => (await drover.client.getJob(id))?.state === 'completed', { what: 'the processes to come up', timeoutMs: 60_000 });
}, 120_000);

const startsOf = (funcname: string, ids: Set<string>) => drover.events().filter((e) => e.funcname === funcname && e.event === 'start' && ids.has(e.id));

describe('Redis lost mid-run', () => {
  it('pauses the limited function, runs the unlimited one, loses and fails nothing, and limits again once Redis is back', async () => {
    const rated = new Set((await drover.client.enqueueMany(Array.from({ length: 400 }, (_, i) => ({ funcname: 'flow.rated', arg: { i } })))).map((j) => j.id));
    await waitFor(() => startsOf('flow.rated', rated).length >= 60, { what: 'the rated jobs to be running', timeoutMs: 30_000 });
    let stoppedAt = 0;
    let restartAt = 0;
    const free = await withRedisStopped(inject('droverServices').redisUrl, async () => {
      stoppedAt = Date.now();
      // Unlimited jobs enqueued during the outage complete during it.
      const ids = new Set((await drover.client.enqueueMany(Array.from({ length: 50 }, () => ({ funcname: 'flow.free' })))).map((j) => j.id));
      await waitFor(async () => (await Promise.all([...ids].map((id) => drover.client.getJob(id)))).every((j) => j?.state === 'completed'), { what: 'unlimited jobs to complete without Redis', timeoutMs: 30_000, intervalMs: 250 });
      // Long enough for every limited job given back before the outage to have come due and been refused.
      await waitFor(() => Date.now() - stoppedAt > 5000, { what: 'five seconds of outage', intervalMs: 100 });
      restartAt = Date.now();
      return ids;
    });
    // The limit's own log, from the restart on: the grants Redis counts (see the rate test in flow-limits.e2e.test.ts).
    const grants = sampleGrants(inject('droverServices').redisUrl, `drover:${drover.ns.namespace}:flow:rate:flow.rated`);
    const during = startsOf('flow.rated', rated).filter((s) => s.at > stoppedAt + 100 && s.at < restartAt);
    // Fail closed: a start answered just before the stop may still run; none after.
    expect(during).toHaveLength(0);
    expect(startsOf('flow.free', free).every((s) => s.at < restartAt)).toBe(true);

    // Back: every job completes, each started once, none failed because of the outage.
    const jobs = await waitFor(async () => {
      const all = await Promise.all([...rated].map((id) => drover.client.getJob(id)));
      return all.every((j) => j?.state === 'completed') ? all.map((j) => j!) : null;
    }, { what: 'every rated job to complete after the outage', timeoutMs: 90_000, intervalMs: 500 });
    expect(jobs.every((j) => j.failures === 0)).toBe(true);
    const starts = startsOf('flow.rated', rated);
    expect(starts).toHaveLength(400);
    expect(new Set(starts.map((s) => s.id)).size).toBe(400);
    // The limit is in force again after the outage.
    const granted = await grants.stop();
    const after = starts.filter((s) => s.at > restartAt).map((s) => s.at);
    expect(after.length).toBeGreaterThan(100);
    expect(granted.length).toBeGreaterThan(100);
    expect(maxInWindow(granted, 1000)).toBeLessThanOrEqual(50);
    console.log(`[flow] Redis outage: 0 limited starts in ${restartAt - stoppedAt} ms down, ${free.size} unlimited jobs done meanwhile; ${after.length} limited starts after, at most ${maxInWindow(granted, 1000)} granted in any second`);
  }, 180_000);
});
