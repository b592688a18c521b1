/**
 * Faults with real processes: workers and the controller killed, RabbitMQ stopped and started,
 * a busy worker told to stop. Nothing may be lost and nothing may run twice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { restartDatabase, waitFor, withBrokerStopped, type DroverProcess } from '@drover/testing';
import { startsById, useDrover } from './harness.js';

const drover = useDrover();
/**
 * Test-sized timing: a taken-back lease retries after ~100 ms, and the scheduler polls every 100 ms.
 * The restart grace is test-sized too (the workers' leases here are 2-3 s): with the default 30 s,
 * a lease ending just after another test's PostgreSQL restart would wait out this file's deadlines.
 */
const FAST = { DROVER_RETRY_BASE_MS: '100', DROVER_SCHEDULER_POLL_MS: '100', DROVER_RESTART_GRACE_MS: '3000' };
let controller: DroverProcess;

beforeAll(async () => {
  drover.processes.start(['scheduler'], drover.env(FAST));
  controller = drover.processes.start(['controller'], drover.env(FAST));
});

async function completedCount(funcname: string): Promise<number> {
  return (await drover.client.counts()).find((c) => c.funcname === funcname && c.state === 'completed')?.count ?? 0;
}

describe('faults', () => {
  it('finishes, once, a job whose worker was killed mid-job, after its lease expires', async () => {
    const victim = drover.startWorker();
    const { id } = await drover.client.enqueue({ funcname: 'e2e.sleep', arg: { ms: 3000 } });
    await waitFor(() => drover.runs().some((r) => r.id === id), { what: 'the job to start', timeoutMs: 30_000 });
    victim.kill('SIGKILL');
    await victim.exited;
    const survivor = drover.startWorker();
    const job = await waitFor(async () => {
      const j = await drover.client.getJob(id);
      return j?.state === 'completed' ? j : null;
    }, { what: 'another worker to complete the job', timeoutMs: 30_000 });
    expect(job).toMatchObject({ failures: 1, attempts: 2, result: 'slept' });
    expect(job.failureLog.map((f) => f.error)).toEqual(['lease expired']);
    const runs = drover.runs().filter((r) => r.id === id);
    expect(runs.map((r) => r.pid)).toEqual([victim.child.pid, survivor.child.pid]);
    survivor.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
  });

  it('on SIGTERM, lets a busy worker finish or give back its jobs, counting none as failed', async () => {
    // The only worker: every job below runs here.
    const busy = drover.startWorker({ DROVER_SHUTDOWN_GRACE_MS: '500', LOG_LEVEL: 'info' });
    await waitFor(() => busy.output().includes('worker running'), { what: 'the worker to be running', timeoutMs: 30_000 });
    const quick = await drover.client.enqueueMany(Array.from({ length: 2 }, () => ({ funcname: 'e2e.sleep', arg: { ms: 200 } })));
    const slow = await drover.client.enqueueMany(Array.from({ length: 2 }, () => ({ funcname: 'e2e.sleep', arg: { ms: 20_000 } })));
    const ids = [...quick, ...slow].map((r) => r.id);
    await waitFor(async () => {
      const states = await Promise.all(slow.map(async (r) => (await drover.client.getJob(r.id))?.state));
      return states.every((s) => s === 'running');
    }, { what: 'the slow jobs to be running', timeoutMs: 30_000 });
    busy.kill('SIGTERM');
    expect(await busy.exited).toBe(0);
    const jobs = await Promise.all(ids.map((id) => drover.client.getJob(id)));
    expect(jobs.every((j) => j!.failures === 0 && j!.failureLog.length === 0)).toBe(true);
    // The quick ones finished within the grace period; the slow ones were given back, ready to run again.
    expect(jobs.filter((j) => quick.some((q) => q.id === j!.id)).map((j) => j!.state)).toEqual(['completed', 'completed']);
    expect(jobs.filter((j) => slow.some((q) => q.id === j!.id)).map((j) => j!.state).every((st) => st === 'ready' || st === 'dispatched')).toBe(true);
    for (const r of slow) await drover.client.cancel(r.id);
  });

  it('loses nothing and runs nothing twice while RabbitMQ is stopped and started with 5,000 jobs flowing', async () => {
    const worker = drover.startWorker({ LOG_LEVEL: 'info' });
    // Consuming before the outage, so that the outage hits a running worker.
    await waitFor(() => worker.output().includes('worker running'), { what: 'the worker to be running', timeoutMs: 30_000 });
    const before = await completedCount('e2e.double');
    const ids: string[] = [];
    const enqueue = async (batches: number): Promise<void> => {
      for (let b = 0; b < batches; b++) {
        ids.push(...(await drover.client.enqueueMany(Array.from({ length: 500 }, (_, i) => ({ funcname: 'e2e.double', arg: { n: i } })))).map((r) => r.id));
        // Pacing, not waiting for an event: the stream spreads over time so that jobs are in
        // flight at every stage of the outage. Nothing is asserted after it.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await enqueue(4);
    await withBrokerStopped(async () => {
      // PostgreSQL is the truth: producers go on while the dispatcher is down.
      await enqueue(4);
    });
    await enqueue(2);
    expect(ids).toHaveLength(5000);
    await waitFor(async () => (await completedCount('e2e.double')) - before >= 5000, { what: 'all 5,000 to complete', timeoutMs: 180_000, intervalMs: 500 });
    const starts = startsById(drover.runs());
    expect(ids.filter((id) => starts.get(id) !== 1)).toEqual([]);
    // The outage really reached the processes: they lost their connections and came back.
    expect(worker.output()).toContain('broker connection lost');
    expect(worker.child.exitCode).toBeNull();
  });

  it('loses nothing when the controller is killed mid-relay and started again', async () => {
    controller.kill('SIGKILL');
    await controller.exited;
    const before = await completedCount('e2e.double');
    const ids = (await drover.client.enqueueMany(Array.from({ length: 5000 }, (_, i) => ({ funcname: 'e2e.double', arg: { n: i } })))).map((r) => r.id);
    const relaying = drover.processes.start(['controller'], drover.env(FAST));
    await waitFor(async () => (await completedCount('e2e.double')) - before > 0, { what: 'the relay to start dispatching', timeoutMs: 30_000, intervalMs: 10 });
    relaying.kill('SIGKILL');
    await relaying.exited;
    const remaining = 5000 - ((await completedCount('e2e.double')) - before);
    expect(remaining).toBeGreaterThan(0);
    controller = drover.processes.start(['controller'], drover.env(FAST));
    await waitFor(async () => (await completedCount('e2e.double')) - before >= 5000, { what: 'all 5,000 to complete', timeoutMs: 120_000, intervalMs: 250 });
    const starts = startsById(drover.runs());
    expect(ids.filter((id) => starts.get(id) !== 1)).toEqual([]);
  });

  it('loses nothing when PostgreSQL restarts under load, and runs a job again only after its lease expired', async () => {
    const worker = drover.startWorker({ LOG_LEVEL: 'info' });
    // Running before the restart, so that the restart hits a running worker, not its start-up.
    await waitFor(() => worker.output().includes('worker running'), { what: 'the worker to be running', timeoutMs: 30_000 });
    const before = await completedCount('e2e.double');
    const ids = (await drover.client.enqueueMany(Array.from({ length: 3000 }, (_, i) => ({ funcname: 'e2e.double', arg: { n: i } })))).map((r) => r.id);
    await waitFor(async () => (await completedCount('e2e.double')) - before > 200, { what: 'the flow to start', timeoutMs: 30_000, intervalMs: 10 });
    await restartDatabase(drover.ns.databaseUrl);
    await waitFor(async () => (await completedCount('e2e.double').catch(() => 0)) - before >= 3000, { what: 'all 3,000 to complete', timeoutMs: 120_000, intervalMs: 250 });
    const starts = startsById(drover.runs());
    const again = ids.filter((id) => starts.get(id) !== 1);
    for (const id of again) {
      expect((await drover.client.getJob(id))?.failureLog.map((f) => f.error)).toEqual(['lease expired']);
    }
    expect(ids.every((id) => (starts.get(id) ?? 0) >= 1)).toBe(true);
    expect(worker.child.exitCode).toBeNull();
    expect(controller.child.exitCode).toBeNull();
  });
});
