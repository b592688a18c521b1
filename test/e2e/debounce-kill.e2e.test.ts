/**
 * Debounce survives process death: a burst of events on a debounced `@event` trigger schedules
 * one job in PostgreSQL; the controller and the scheduler, real processes, are killed (SIGKILL)
 * inside the window, and events keep coming while they are down; once they are back, the job
 * still comes, and runs once. Real time here (the processes keep the system clock), so the
 * window is a few seconds; the 30 s window over 5 s of clock time is in
 * packages/store/test/events.int.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type DroverProcess } from '@drover/testing';
import { useDrover } from './harness.js';

const drover = useDrover();
const FAST = { DROVER_RETRY_BASE_MS: '100', DROVER_SCHEDULER_POLL_MS: '100', DROVER_RESTART_GRACE_MS: '3000' };
/** Long enough that 100 raises and two kills fit inside it on a loaded two-core machine. */
const DEBOUNCE_MS = 8000;
let controller: DroverProcess;
let scheduler: DroverProcess;

beforeAll(async () => {
  scheduler = drover.processes.start(['scheduler'], drover.env(FAST));
  controller = drover.processes.start(['controller'], drover.env(FAST));
  drover.startWorker(FAST);
  // A delayed job that completes has been promoted by the scheduler and relayed by the controller:
  // both are running, so the kill below stops working processes, not ones still starting.
  const { id } = await drover.client.enqueue({ funcname: 'e2e.double', arg: { n: 1 }, runAfter: new Date(Date.now() + 300).toISOString() });
  await waitFor(async () => (await drover.client.getJob(id))?.state === 'completed', { what: 'the services to be up', timeoutMs: 60_000 });
});

async function jobsOfTrigger(triggerId: string): Promise<{ id: string; state: string; run_after: Date }[]> {
  const { rows } = await drover.ns.pool.query<{ id: string; state: string; run_after: Date }>(
    `SELECT id::text, state, run_after FROM jobs WHERE trigger_id = $1
     UNION ALL SELECT id::text, state, run_after FROM finished_jobs WHERE trigger_id = $1`,
    [triggerId],
  );
  return rows;
}

async function dbNow(): Promise<Date> {
  const { rows } = await drover.ns.pool.query<{ now: Date }>('SELECT now()');
  return rows[0]!.now;
}

describe('debounce across SIGKILL', () => {
  it('the controller and scheduler killed inside the window: the job still comes, once', async () => {
    const trigger = await drover.ns.store.createTrigger({ spec: '@event e2e.docs:CREATED', funcname: 'e2e.event', debounce: `${DEBOUNCE_MS}ms` });
    const made: string[] = [];
    for (let i = 0; i < 100; i++) made.push(...(await drover.client.raiseEvent({ type: 'e2e.docs', verb: 'CREATED', doc: { _id: `d${i}` } })).jobIds);
    expect(made).toHaveLength(1);
    const [pending] = await jobsOfTrigger(trigger.id);
    expect(pending).toMatchObject({ id: made[0], state: 'scheduled' });

    controller.kill('SIGKILL');
    scheduler.kill('SIGKILL');
    await Promise.all([controller.exited, scheduler.exited]);
    // Both are down, and the window is still open: the kill happened inside it.
    expect((await dbNow()).getTime()).toBeLessThan(pending!.run_after.getTime());
    for (let i = 0; i < 10; i++) expect((await drover.client.raiseEvent({ type: 'e2e.docs', verb: 'CREATED', doc: { _id: `down${i}` } })).jobIds).toEqual([]);

    scheduler = drover.processes.start(['scheduler'], drover.env(FAST));
    controller = drover.processes.start(['controller'], drover.env(FAST));
    const done = await waitFor(async () => {
      const job = await drover.client.getJob(made[0]!);
      return job?.state === 'completed' ? job : null;
    }, { what: 'the debounced job to run after the restart', timeoutMs: 60_000 });
    expect(done.result).toEqual({ id: 'd0' });
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(pending!.run_after.getTime());
    expect(drover.runs().filter((r) => r.funcname === 'e2e.event').map((r) => r.id)).toEqual([made[0]]);
    expect(await jobsOfTrigger(trigger.id)).toHaveLength(1);
  });
});
