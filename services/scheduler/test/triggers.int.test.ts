/**
 * The scheduler fires triggers exactly once, on the real PostgreSQL, with time moved by a manual
 * clock: an hour of `@every 10s`, a seconds cron, a daily cron across both daylight-saving
 * changes, three schedulers at once, a scheduler killed mid-fire, the catch-up policies after an
 * hour down, `@at` in the past, `@in 5s`, the sleep until the next fire, and the two trigger
 * tasks draining past a batch.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, silentLogger, type Clock } from '@drover/core';
import { useTestNamespace, waitFor } from '@drover/testing';
import { createScheduler, fireDueTriggers, foldTriggerOutcomes, type Scheduler } from '../src/index.js';

const ns = useTestNamespace();
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

// Every pass fires every due trigger of the namespace, and each test's clock stands apart from
// the others': each test starts with no trigger.
beforeEach(async () => {
  await ns.pool.query('DELETE FROM triggers');
});

interface JobRow {
  id: string;
  trigger_id: string;
  run_after: Date;
  created_at: Date;
}

/** The jobs of a function, by tick. */
async function jobsOf(funcname: string): Promise<JobRow[]> {
  const { rows } = await ns.pool.query<JobRow>('SELECT id::text, trigger_id::text, run_after, created_at FROM jobs WHERE funcname = $1 ORDER BY run_after, id', [funcname]);
  return rows;
}

/** A scheduler on a store of its own (its own pool), both on `clock`; only runOnce is used, so no loop runs. */
function schedulerOn(clock: Clock): { scheduler: Scheduler; store: ReturnType<typeof ns.createStore> } {
  const store = ns.createStore({ clock, max: 2 });
  return { scheduler: createScheduler({ store, clock, pollMs: HOUR }), store };
}

describe('firing on time', () => {
  it('@every 10s over a simulated hour creates exactly 360 jobs, one per tick', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const { scheduler, store } = schedulerOn(clock);
    const t = await store.createTrigger({ spec: '@every 10s', funcname: 'st.every' });
    const start = clock.now().getTime();
    for (let i = 0; i < 360; i++) {
      clock.advance(10 * SECOND);
      await scheduler.runOnce();
    }
    const jobs = await jobsOf('st.every');
    expect(jobs).toHaveLength(360);
    expect(jobs.map((j) => j.run_after.getTime())).toEqual(Array.from({ length: 360 }, (_, i) => start + (i + 1) * 10 * SECOND));
    expect(new Set(jobs.map((j) => j.trigger_id))).toEqual(new Set([t.id]));
    expect(await store.getTrigger(t.id)).toMatchObject({ fires: 360, lastJobId: jobs.at(-1)!.id });
  });

  it('@cron */15 * * * * * fires at :00, :15, :30 and :45 of each minute', async () => {
    const clock = new ManualClock(Date.UTC(2030, 1, 1, 0, 0, 7));
    const { scheduler, store } = schedulerOn(clock);
    await store.createTrigger({ spec: '@cron */15 * * * * *', funcname: 'st.cron15' });
    for (let i = 0; i < 120; i++) {
      clock.advance(SECOND);
      await scheduler.runOnce();
    }
    const jobs = await jobsOf('st.cron15');
    expect(jobs.map((j) => j.run_after.toISOString().slice(14, 23))).toEqual(['00:15.000', '00:30.000', '00:45.000', '01:00.000', '01:15.000', '01:30.000', '01:45.000', '02:00.000']);
    // Fired at the pass that reached each tick: one second of clock at most.
    for (const j of jobs) expect(j.created_at.getTime() - j.run_after.getTime()).toBe(0);
  });

  it('a daily cron in Europe/Amsterdam fires once each day at the right instant across both daylight-saving changes', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 26, 12));
    const { scheduler, store } = schedulerOn(clock);
    // 02:30 does not exist on 29 March (02:00 CET -> 03:00 CEST) and happens twice on 25 October.
    await store.createTrigger({ spec: '@cron 0 30 2 * * *', funcname: 'st.dst0230', timeZone: 'Europe/Amsterdam' });
    await store.createTrigger({ spec: '@cron 0 0 9 * * *', funcname: 'st.dst0900', timeZone: 'Europe/Amsterdam' });
    const simulate = async (until: number): Promise<void> => {
      while (clock.now().getTime() < until) {
        clock.advance(15 * MINUTE);
        await scheduler.runOnce();
      }
    };
    await simulate(Date.UTC(2026, 2, 31, 12));
    clock.set(Date.UTC(2026, 9, 22, 12));
    // The clock jumped seven months: the default policy makes one job for that stretch; drop it.
    await scheduler.runOnce();
    await ns.pool.query("DELETE FROM jobs WHERE funcname LIKE 'st.dst%' AND run_after > '2026-04-01'");
    await simulate(Date.UTC(2026, 9, 27, 12));
    const at = async (funcname: string): Promise<string[]> => (await jobsOf(funcname)).map((j) => j.run_after.toISOString());
    expect(await at('st.dst0230')).toEqual([
      '2026-03-27T01:30:00.000Z', // 02:30 CET
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z', // 02:30 skipped: fires as the gap ends, 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
      '2026-10-23T00:30:00.000Z',
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST) only, not the second (CET, 01:30Z)
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z',
    ]);
    expect(await at('st.dst0900')).toEqual([
      '2026-03-27T08:00:00.000Z',
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-03-31T07:00:00.000Z',
      '2026-10-23T07:00:00.000Z',
      '2026-10-24T07:00:00.000Z',
      '2026-10-25T08:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
      '2026-10-27T08:00:00.000Z',
    ]);
    // Each fired at the pass that reached its instant.
    for (const j of [...(await jobsOf('st.dst0230')), ...(await jobsOf('st.dst0900'))]) expect(j.created_at).toEqual(j.run_after);
  });
});

describe('exactly once', () => {
  it('three schedulers at once fire every tick of every trigger exactly once', async () => {
    const clock = new ManualClock(Date.UTC(2030, 2, 1));
    const schedulers = [schedulerOn(clock), schedulerOn(clock), schedulerOn(clock)];
    const start = clock.now().getTime();
    for (let i = 0; i < 10; i++) await schedulers[0]!.store.createTrigger({ spec: '@every 10s', funcname: `st.three.${i}` });
    await schedulers[0]!.store.createTrigger({ spec: '@cron */15 * * * * *', funcname: 'st.three.cron', catchUp: 'all' });
    for (let step = 0; step < 60; step++) {
      clock.advance(5 * SECOND);
      await Promise.all(schedulers.map(({ scheduler }) => scheduler.runOnce()));
    }
    for (let i = 0; i < 10; i++) {
      const ticks = (await jobsOf(`st.three.${i}`)).map((j) => j.run_after.getTime());
      expect(ticks).toEqual(Array.from({ length: 30 }, (_, k) => start + (k + 1) * 10 * SECOND));
    }
    expect((await jobsOf('st.three.cron')).map((j) => j.run_after.getTime())).toEqual(Array.from({ length: 20 }, (_, k) => start + (k + 1) * 15 * SECOND));
    const made = schedulers.map(({ scheduler }) => scheduler.totals.triggerJobs);
    expect(made.reduce((a, b) => a + b, 0)).toBe(320);
  });

  it('a scheduler killed between reading a due trigger and committing its fire makes neither a double nor a missed fire', async () => {
    const clock = new ManualClock(Date.UTC(2030, 3, 1));
    const victim = schedulerOn(clock);
    const survivor = schedulerOn(clock);
    const t = await victim.store.createTrigger({ spec: '@every 10s', funcname: 'st.kill', uniqkey: 'k' });
    const tick = t.nextFireAt!;
    // An open transaction holding the job's (funcname, uniqkey): the victim's fire, once it has
    // locked the trigger, waits on it inside its transaction, where it is killed.
    const blocker = await ns.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query("INSERT INTO jobs (funcname, uniqkey, state, run_after, max_retries, created_at) VALUES ('st.kill', 'k', 'scheduled', 'infinity', 0, now())");
      clock.advance(10 * SECOND);
      const pass = victim.scheduler.runOnce();
      const pid = await waitFor(async () => {
        const { rows } = await ns.pool.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO jobs%trigger_id%' AND datname = current_database()",
        );
        return rows[0]?.pid;
      }, { what: 'the victim fire waiting inside its transaction' });
      // The trigger is locked by the victim: a survivor's pass skips it rather than firing it twice.
      expect(await survivor.store.fireTriggers()).toEqual({ triggers: 0, jobs: 0 });
      await ns.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await expect(pass).rejects.toThrow();
      await blocker.query('ROLLBACK');
    } finally {
      blocker.release();
    }
    expect(await jobsOf('st.kill')).toEqual([]);
    expect((await survivor.store.getTrigger(t.id))!.nextFireAt).toEqual(tick);
    await survivor.scheduler.runOnce();
    await survivor.scheduler.runOnce();
    const jobs = await jobsOf('st.kill');
    expect(jobs.map((j) => j.run_after)).toEqual([tick]);
    expect((await survivor.store.getTrigger(t.id))!.nextFireAt!.getTime()).toBe(tick.getTime() + 10 * SECOND);
  });
});

describe('catch-up after downtime', () => {
  it('one hour down, then back: the default makes one job, all one per missed tick, none none', async () => {
    const clock = new ManualClock(Date.UTC(2030, 4, 1));
    const { scheduler, store } = schedulerOn(clock);
    const start = clock.now().getTime();
    for (const catchUp of ['one', 'all', 'none'] as const) await store.createTrigger({ spec: '@every 10s', funcname: `st.down.${catchUp}`, catchUp });
    clock.advance(10 * SECOND);
    await scheduler.runOnce();
    clock.advance(HOUR);
    await scheduler.runOnce();
    const counts = async (): Promise<number[]> => Promise.all(['one', 'all', 'none'].map(async (p) => (await jobsOf(`st.down.${p}`)).length));
    // One on-time fire each, then the hour: ticks from +20 s to +3610 s are 360.
    expect(await counts()).toEqual([1 + 1, 1 + 360, 1 + 0]);
    expect((await jobsOf('st.down.one')).at(-1)!.run_after.getTime()).toBe(start + 3610 * SECOND);
    const nexts = (await store.listTriggers()).map((t) => t.nextFireAt!.getTime());
    expect(nexts).toEqual([start + 3620 * SECOND, start + 3620 * SECOND, start + 3620 * SECOND]);
    clock.advance(10 * SECOND);
    await scheduler.runOnce();
    expect(await counts()).toEqual([3, 362, 2]);
  });
});

describe('one-shot triggers', () => {
  it('@at in the past fires once, at once', async () => {
    const clock = new ManualClock(Date.UTC(2030, 5, 1));
    const { scheduler, store } = schedulerOn(clock);
    const t = await store.createTrigger({ spec: '@at 2029-12-31T23:00:00Z', funcname: 'st.at' });
    await scheduler.runOnce();
    expect((await jobsOf('st.at')).map((j) => [j.run_after.toISOString(), j.created_at.toISOString()])).toEqual([['2029-12-31T23:00:00.000Z', '2030-06-01T00:00:00.000Z']]);
    clock.advance(HOUR);
    await scheduler.runOnce();
    expect(await jobsOf('st.at')).toHaveLength(1);
    expect(await store.getTrigger(t.id)).toMatchObject({ done: true, fires: 1 });
  });

  it('@in 5s fires once, after 5 s of clock time', async () => {
    const clock = new ManualClock(Date.UTC(2030, 6, 1));
    const { scheduler, store } = schedulerOn(clock);
    await store.createTrigger({ spec: '@in 5s', funcname: 'st.in' });
    clock.advance(5 * SECOND - 1);
    await scheduler.runOnce();
    expect(await jobsOf('st.in')).toEqual([]);
    clock.advance(1);
    await scheduler.runOnce();
    clock.advance(HOUR);
    await scheduler.runOnce();
    expect((await jobsOf('st.in')).map((j) => j.run_after.toISOString())).toEqual(['2030-07-01T00:00:05.000Z']);
  });
});

describe('the scheduler loop and triggers', () => {
  it('sleeps until the next trigger fires', async () => {
    const clock = new ManualClock(Date.UTC(2030, 7, 1));
    const { scheduler, store } = schedulerOn(clock);
    await store.createTrigger({ spec: '@every 10s', funcname: 'st.sleep' });
    clock.advance(3 * SECOND);
    expect(await scheduler.runOnce()).toBe(7 * SECOND);
  });

  it('is woken by a new trigger due sooner than it planned to wake, and fires it', async () => {
    // Polls an hour apart, and trims as rarely: only the wake-up from the insert can fire the trigger in time.
    const scheduler = createScheduler({ store: ns.store, pollMs: HOUR, trimEveryMs: HOUR });
    await scheduler.start();
    try {
      await waitFor(() => scheduler.totals.passes >= 1, { what: 'the first pass', intervalMs: 5 });
      await ns.store.createTrigger({ spec: '@in 300ms', funcname: 'st.wake' });
      await waitFor(async () => (await jobsOf('st.wake')).length === 1, { what: 'the trigger to fire' });
      expect(scheduler.totals.triggerJobs).toBe(1);
    } finally {
      await scheduler.stop();
    }
  });
});

describe('the trigger tasks', () => {
  it('fire-triggers drains more due triggers than one batch holds', async () => {
    const clock = new ManualClock(Date.UTC(2030, 8, 1));
    const { store } = schedulerOn(clock);
    for (let i = 0; i < 5; i++) await store.createTrigger({ spec: '@every 10s', funcname: 'st.batch' });
    clock.advance(10 * SECOND);
    expect(await fireDueTriggers(store, silentLogger, 2)).toEqual({ triggers: 5, jobs: 5 });
    expect(await jobsOf('st.batch')).toHaveLength(5);
  });

  it('fold-trigger-outcomes drains more outcomes than one batch holds', async () => {
    const clock = new ManualClock(Date.UTC(2030, 9, 1));
    const { store } = schedulerOn(clock);
    const t = await store.createTrigger({ spec: '@client', funcname: 'st.fold' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.launchTrigger(t.id))!.jobId);
    const claimed = await store.claim(ids, { leaseMs: MINUTE });
    await store.completeMany(claimed.map((j) => ({ id: j.id, grabToken: j.grabToken })));
    expect(await foldTriggerOutcomes(store, silentLogger, 2)).toBe(5);
    expect((await store.getTrigger(t.id))!.lastSuccessJobId).not.toBeNull();
  });
});
