/**
 * A fleet started during an outage: a worker, a controller and a scheduler started while
 * PostgreSQL, then RabbitMQ, is down wait and retry with backoff, saying what is down, and come up
 * and work once it returns. A signal during the wait exits cleanly; bad configuration still exits 2
 * at once. Stops shared services: run under the exclusive lock
 * (`flock -x /tmp/drover-svc.lock npx vitest run test/e2e/start-during-outage.e2e.test.ts`).
 */
import { describe, expect, it } from 'vitest';
import { waitFor, withBrokerStopped, withDatabaseStopped, type DroverProcess } from '@drover/testing';
import { startsById, useDrover } from './harness.js';

const drover = useDrover();
/** Test-sized timing: the scheduler polls every 100 ms. */
const FAST = { DROVER_SCHEDULER_POLL_MS: '100', LOG_LEVEL: 'info' };
/**
 * Longer than every wait inside a test put together: a wait that fails must fail inside the
 * outage's callback, so that its `finally` starts the service again before the test ends.
 */
const OUTAGE_TEST_TIMEOUT_MS = 300_000;

/** Starts one of each long-running process. */
function startFleet(): { worker: DroverProcess; controller: DroverProcess; scheduler: DroverProcess } {
  return {
    worker: drover.startWorker(FAST),
    controller: drover.processes.start(['controller'], drover.env(FAST)),
    scheduler: drover.processes.start(['scheduler'], drover.env(FAST)),
  };
}

/** Resolves once the process has logged a retry naming `service` and when it tries next. */
async function retrying(p: DroverProcess, service: string): Promise<void> {
  await waitFor(() => /"nextTryInMs":\d+/.test(p.output()) && p.output().includes(`${service} is not available`), {
    what: `${p.logFile} to log that it waits for ${service}`,
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  // Still waiting, not exited.
  expect(p.child.exitCode).toBeNull();
}

/** Enqueues jobs through the fleet: ready ones (relay and worker) and delayed ones (scheduler too). */
async function proveWorking(): Promise<void> {
  const ready = await drover.client.enqueueMany(Array.from({ length: 20 }, (_, i) => ({ funcname: 'e2e.double', arg: { n: i } })));
  const delayed = await drover.client.enqueue({ funcname: 'e2e.double', arg: { n: 100 }, runAfter: new Date(Date.now() + 500) });
  const ids = [...ready.map((r) => r.id), delayed.id];
  await waitFor(async () => {
    const jobs = await Promise.all(ids.map((id) => drover.client.getJob(id)));
    return jobs.every((j) => j?.state === 'completed');
  }, { what: 'the jobs enqueued after the outage to complete', timeoutMs: 60_000, intervalMs: 200 });
  const starts = startsById(drover.runs());
  expect(ids.filter((id) => starts.get(id) !== 1)).toEqual([]);
}

async function stopFleet(fleet: Record<string, DroverProcess>): Promise<void> {
  for (const p of Object.values(fleet)) p.kill('SIGTERM');
  expect(await Promise.all(Object.values(fleet).map((p) => p.exited))).toEqual([0, 0, 0]);
}

describe('processes started during an outage', () => {
  it('start while PostgreSQL is down, come up once it is back, and complete jobs', async () => {
    const fleet = await withDatabaseStopped(drover.ns.databaseUrl, async () => {
      const started = startFleet();
      await Promise.all(Object.values(started).map((p) => retrying(p, 'PostgreSQL')));
      return started;
    });
    await waitFor(() => fleet.worker.output().includes('worker running'), { what: 'the worker to come up', timeoutMs: 60_000, intervalMs: 100 });
    await proveWorking();
    await stopFleet(fleet);
  }, OUTAGE_TEST_TIMEOUT_MS);

  it('start while RabbitMQ is down, come up once it is back, and complete jobs', async () => {
    const fleet = await withBrokerStopped(async () => {
      const started = startFleet();
      await retrying(started.worker, 'RabbitMQ');
      // The controller and the scheduler need only PostgreSQL to start: they run, and the relay waits for the broker.
      await waitFor(() => started.controller.output().includes('drover running') && started.scheduler.output().includes('drover running'), {
        what: 'the controller and the scheduler to run without the broker',
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      return started;
    });
    await waitFor(() => fleet.worker.output().includes('worker running'), { what: 'the worker to come up', timeoutMs: 60_000, intervalMs: 100 });
    await proveWorking();
    await stopFleet(fleet);
  }, OUTAGE_TEST_TIMEOUT_MS);

  it('exits 0 on SIGTERM while waiting, and 2 at once on bad configuration', async () => {
    await withDatabaseStopped(drover.ns.databaseUrl, async () => {
      const waiting = drover.startWorker(FAST);
      await retrying(waiting, 'PostgreSQL');
      waiting.kill('SIGTERM');
      expect(await waiting.exited).toBe(0);
      const bad = await drover.processes.run(['controller'], drover.env({ DATABASE_URL: 'not a url' }));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('DATABASE_URL');
      const missing = await drover.processes.run(['worker', 'test/fixtures/handlers.ts'], drover.env({ AMQP_URL: '' }));
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('AMQP_URL');
    });
  }, OUTAGE_TEST_TIMEOUT_MS);
});
