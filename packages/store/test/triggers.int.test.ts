/**
 * Role: TriggerStore — create, read, list, update, enable, delete, launch — and the scheduler's
 * trigger operations (`fireTriggers`, `foldTriggerOutcomes`), with the outcome rows that the
 * statements finishing a triggered job leave behind. Runs on both adapters. The scheduler's own
 * scenarios (an hour of ticks, DST, concurrent schedulers, a killed fire) are in
 * services/scheduler/test/triggers.int.test.ts, on PostgreSQL.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, ValidationError, type NewTrigger } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();
const SECOND = 1000;

// Firing takes every due trigger of the namespace, and each test's clock stands years from the
// others': each test starts with no trigger, so what fires is its own.
beforeEach(async () => {
  await ns.pool.query('DELETE FROM triggers');
  await ns.pool.query('DELETE FROM trigger_outcomes');
});
const LEASE = { leaseMs: 60_000 };

async function countTriggers(): Promise<number> {
  const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM triggers');
  return rows[0]!.n;
}

/** The jobs a trigger made, live or finished, oldest first, with the trigger id they carry. */
async function jobsOf(funcname: string): Promise<{ id: string; trigger_id: string | null; run_after: Date; state: string }[]> {
  const { rows } = await ns.pool.query<{ id: string; trigger_id: string | null; run_after: Date; state: string }>(
    `SELECT id::text, trigger_id::text, run_after, state FROM jobs WHERE funcname = $1
     UNION ALL SELECT id::text, trigger_id::text, run_after, state FROM finished_jobs WHERE funcname = $1
     ORDER BY run_after, id`,
    [funcname],
  );
  return rows;
}

describe('createTrigger', () => {
  it('stores the trigger with its job, defaults and first fire time from the clock', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1, 0, 0, 7));
    const store = ns.createStore({ clock });
    const t = await store.createTrigger({ spec: '@every 10s', funcname: 'tr.create', arg: { full: true }, priority: 5, maxRetries: 2, timeoutMs: 1000, uniqkey: 'k' });
    expect(t).toMatchObject({
      spec: '@every 10s', type: 'every', args: '10s', timeZone: 'UTC', funcname: 'tr.create', arg: { full: true }, priority: 5, maxRetries: 2,
      timeoutMs: 1000, uniqkey: 'k', debounceMs: null, catchUp: 'one', enabled: true, done: false, fires: 0,
      lastFiredAt: null, lastJobId: null, lastSuccessAt: null, lastFailureAt: null, lastError: null,
    });
    expect(t.nextFireAt?.toISOString()).toBe('2030-01-01T00:00:17.000Z');
    expect(await store.getTrigger(t.id)).toEqual(t);
    const daily = await store.createTrigger({ spec: '@daily', funcname: 'tr.create', timeZone: 'Europe/Amsterdam', catchUp: 'all' });
    expect(daily.nextFireAt?.toISOString()).toBe('2030-01-01T23:00:00.000Z');
    const hook = await store.createTrigger({ spec: '@webhook', funcname: 'tr.create', debounce: '30s' });
    expect(hook).toMatchObject({ type: 'webhook', debounceMs: 30_000, nextFireAt: null });
    expect((await store.createTrigger({ spec: '@event io.cozy.files:CREATED', funcname: 'tr.create' })).args).toBe('io.cozy.files:CREATED');
  });

  it.each<[string, NewTrigger, string]>([
    ['an invalid cron spec', { spec: '@cron 0 61 * * * *', funcname: 'f' }, 'spec'],
    ['an unknown type', { spec: '@fortnightly', funcname: 'f' }, 'spec'],
    ['a zero duration', { spec: '@every 0s', funcname: 'f' }, 'spec'],
    ['a negative duration', { spec: '@in -5s', funcname: 'f' }, 'spec'],
    ['an unknown time zone', { spec: '@daily', funcname: 'f', timeZone: 'Europe/Atlantis' }, 'timeZone'],
    ['a bad funcname', { spec: '@daily', funcname: '' }, 'funcname'],
    ['an unknown catch-up policy', { spec: '@daily', funcname: 'f', catchUp: 'most' as never }, 'catchUp'],
  ])('refuses %s, naming the field, and writes nothing', async (_what, input, field) => {
    const before = await countTriggers();
    const err = await ns.store.createTrigger(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe(field);
    expect(await countTriggers()).toBe(before);
  });

  it('refuses generated bad specs and time zones, naming the field, and writes nothing', async () => {
    const before = await countTriggers();
    const badSpec = fc.oneof(
      fc.string().filter((s) => !s.trim().startsWith('@')),
      fc.constantFrom('@every', '@in', '@cron', '@at').chain((kw) => fc.string({ maxLength: 12 }).filter((s) => /[^0-9a-z* /,-]|^$/.test(s)).map((s) => `${kw} ${s}`)),
      fc.integer({ min: -1000, max: 0 }).map((n) => `@every ${n}s`),
    );
    await fc.assert(
      fc.asyncProperty(badSpec, async (spec) => {
        const err = await ns.store.createTrigger({ spec, funcname: 'tr.bad' }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field).toBe('spec');
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1 }).filter((z) => { try { new Intl.DateTimeFormat('en-US', { timeZone: z }); return false; } catch { return true; } }), async (timeZone) => {
        const err = await ns.store.createTrigger({ spec: '@daily', funcname: 'tr.bad', timeZone }).catch((e: unknown) => e);
        expect((err as ValidationError).field).toBe('timeZone');
      }),
      { numRuns: 50 },
    );
    expect(await countTriggers()).toBe(before);
  });
});

describe('listTriggers', () => {
  it('pages newest first, by function', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await ns.store.createTrigger({ spec: '@client', funcname: 'tr.list' }));
    const first = await ns.store.listTriggers({ funcname: 'tr.list', limit: 3 });
    expect(first.map((t) => t.id)).toEqual(made.slice(2).reverse().map((t) => t.id));
    const rest = await ns.store.listTriggers({ funcname: 'tr.list', beforeId: first.at(-1)!.id });
    expect(rest.map((t) => t.id)).toEqual(made.slice(0, 2).reverse().map((t) => t.id));
    await expect(ns.store.listTriggers({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
  });
});

describe('updateTrigger and enableTrigger', () => {
  it('reschedules from now on a new spec, and refuses a bad patch without changing anything', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const store = ns.createStore({ clock });
    const t = await store.createTrigger({ spec: '@every 1h', funcname: 'tr.update' });
    clock.advance(60 * SECOND);
    const changed = await store.updateTrigger(t.id, { spec: '@every 10s', arg: { v: 2 } });
    expect(changed).toMatchObject({ spec: '@every 10s', arg: { v: 2 }, funcname: 'tr.update' });
    expect(changed!.nextFireAt?.toISOString()).toBe('2030-01-01T00:01:10.000Z');
    const same = await store.updateTrigger(t.id, { priority: 3 });
    expect(same!.nextFireAt).toEqual(changed!.nextFireAt);
    for (const [patch, field] of [[{ spec: '@every -1s' }, 'spec'], [{ timeZone: 'Nowhere/Never' }, 'timeZone'], [{ bogus: 1 }, 'bogus']] as const) {
      await expect(store.updateTrigger(t.id, patch as never)).rejects.toMatchObject({ field });
    }
    expect(await store.getTrigger(t.id)).toEqual(same);
    expect(await store.updateTrigger('999999999', { priority: 1 })).toBeNull();
  });

  it('a disabled trigger does not fire; enabling it starts from now, not from the missed stretch', async () => {
    const clock = new ManualClock(Date.UTC(2030, 1, 1));
    const store = ns.createStore({ clock });
    const t = await store.createTrigger({ spec: '@every 10s', funcname: 'tr.enable', catchUp: 'all' });
    await store.enableTrigger(t.id, false);
    clock.advance(3600 * SECOND);
    await store.fireTriggers();
    expect(await jobsOf('tr.enable')).toEqual([]);
    const enabled = await store.enableTrigger(t.id, true);
    expect(enabled!.nextFireAt!.getTime()).toBe(clock.now().getTime() + 10 * SECOND);
    await store.fireTriggers();
    expect(await jobsOf('tr.enable')).toEqual([]);
    await expect(store.enableTrigger(t.id, 'yes' as never)).rejects.toMatchObject({ field: 'enabled' });
  });
});

describe('deleteTrigger', () => {
  it('deletes the trigger; its live jobs run on', async () => {
    const t = await ns.store.createTrigger({ spec: '@client', funcname: 'tr.delete' });
    const launched = await ns.store.launchTrigger(t.id);
    expect(await ns.store.deleteTrigger(t.id)).toBe(true);
    expect(await ns.store.deleteTrigger(t.id)).toBe(false);
    expect(await ns.store.getTrigger(t.id)).toBeNull();
    expect((await ns.store.getJob(launched!.jobId))?.state).toBe('ready');
  });
});

describe('launchTrigger', () => {
  it('creates one ready job carrying the trigger id, records it, and leaves the schedule alone', async () => {
    const clock = new ManualClock(Date.UTC(2030, 2, 1));
    const store = ns.createStore({ clock });
    const t = await store.createTrigger({ spec: '@every 1h', funcname: 'tr.launch', arg: { n: 1 }, priority: 7 });
    const launched = await store.launchTrigger(t.id);
    expect(launched).toMatchObject({ inserted: true, trigger: { fires: 1, lastJobId: launched!.jobId, nextFireAt: t.nextFireAt } });
    expect(launched!.trigger.lastFiredAt?.toISOString()).toBe(clock.now().toISOString());
    expect(await store.getJob(launched!.jobId)).toMatchObject({ funcname: 'tr.launch', arg: { n: 1 }, priority: 7, state: 'ready' });
    expect((await jobsOf('tr.launch')).map((j) => j.trigger_id)).toEqual([t.id]);
    expect(await store.launchTrigger('999999999')).toBeNull();
    await expect(store.launchTrigger('x')).rejects.toMatchObject({ field: 'id' });
  });

  it('returns the live job when the trigger has a uniqkey and its last job is still live', async () => {
    const t = await ns.store.createTrigger({ spec: '@client', funcname: 'tr.launch-uniq', uniqkey: 'one' });
    const first = await ns.store.launchTrigger(t.id);
    const second = await ns.store.launchTrigger(t.id);
    expect(second).toMatchObject({ jobId: first!.jobId, inserted: false, trigger: { fires: 1 } });
  });
});

describe('fireTriggers', () => {
  it('fires each due time once: the job carries the trigger id and the trigger moves on', async () => {
    const clock = new ManualClock(Date.UTC(2030, 3, 1));
    const store = ns.createStore({ clock });
    const t = await store.createTrigger({ spec: '@every 10s', funcname: 'tr.fire' });
    clock.advance(9 * SECOND);
    await store.fireTriggers();
    expect(await jobsOf('tr.fire')).toEqual([]);
    clock.advance(SECOND);
    expect(await store.fireTriggers()).toMatchObject({ jobs: 1 });
    expect(await store.fireTriggers()).toMatchObject({ jobs: 0 });
    const jobs = await jobsOf('tr.fire');
    expect(jobs).toMatchObject([{ trigger_id: t.id, state: 'ready' }]);
    expect(jobs[0]!.run_after.toISOString()).toBe('2030-04-01T00:00:10.000Z');
    const after = await store.getTrigger(t.id);
    expect(after).toMatchObject({ fires: 1, lastJobId: jobs[0]!.id });
    expect(after!.nextFireAt?.toISOString()).toBe('2030-04-01T00:00:20.000Z');
    expect((await store.nextDue()).nextTriggerFire).toBeInstanceOf(Date);
  });

  it('fires an @at in the past once, at once, and then it is done', async () => {
    const clock = new ManualClock(Date.UTC(2030, 4, 1));
    const store = ns.createStore({ clock });
    const t = await store.createTrigger({ spec: '@at 2020-01-01T00:00:00Z', funcname: 'tr.at', catchUp: 'none' });
    expect(await store.fireTriggers()).toMatchObject({ jobs: 1 });
    clock.advance(3600 * SECOND);
    await store.fireTriggers();
    expect(await jobsOf('tr.at')).toHaveLength(1);
    expect(await store.getTrigger(t.id)).toMatchObject({ done: true, nextFireAt: null, fires: 1 });
  });

  it('creates nothing for a trigger whose uniqkey is held by its live job, and still moves it on', async () => {
    const clock = new ManualClock(Date.UTC(2030, 5, 1));
    const store = ns.createStore({ clock });
    const t = await store.createTrigger({ spec: '@every 10s', funcname: 'tr.fire-uniq', uniqkey: 'only' });
    clock.advance(10 * SECOND);
    await store.fireTriggers();
    clock.advance(10 * SECOND);
    expect(await store.fireTriggers()).toMatchObject({ jobs: 0 });
    expect(await jobsOf('tr.fire-uniq')).toHaveLength(1);
    expect((await store.getTrigger(t.id))!.nextFireAt?.toISOString()).toBe('2030-06-01T00:00:30.000Z');
  });
});

describe('trigger outcomes', () => {
  it('folds completions and final failures into the trigger state; retries and cancels keep the trigger id', async () => {
    const clock = new ManualClock(Date.UTC(2030, 6, 1));
    const store = ns.createStore({ clock });
    const t = await store.createTrigger({ spec: '@client', funcname: 'tr.outcome', maxRetries: 0 });
    const ok = (await store.launchTrigger(t.id))!.jobId;
    const [okClaim] = await store.claim([ok], LEASE);
    clock.advance(SECOND);
    await store.complete({ id: ok, grabToken: okClaim!.grabToken, result: 1, keepForMs: 0 });
    // The state follows only once the scheduler folds: the completion wrote an outcome row, not the trigger.
    expect(await store.getTrigger(t.id)).toMatchObject({ lastSuccessJobId: null });
    expect(await store.foldTriggerOutcomes()).toBe(1);
    const succeeded = await store.getTrigger(t.id);
    expect(succeeded).toMatchObject({ lastSuccessJobId: ok, lastFailureJobId: null });
    expect(succeeded!.lastSuccessAt?.toISOString()).toBe(clock.now().toISOString());

    const bad = (await store.launchTrigger(t.id))!.jobId;
    const [badClaim] = await store.claim([bad], LEASE);
    clock.advance(SECOND);
    await store.fail({ id: bad, grabToken: badClaim!.grabToken, error: 'disk full', retryDelayMs: 0 });
    expect(await store.foldTriggerOutcomes()).toBe(1);
    expect(await store.getTrigger(t.id)).toMatchObject({ lastSuccessJobId: ok, lastFailureJobId: bad, lastError: 'disk full' });

    expect((await store.retry(bad))?.state).toBe('ready');
    const cancelled = (await store.launchTrigger(t.id))!.jobId;
    expect(await store.cancel(cancelled)).toBe(true);
    const carried = await jobsOf('tr.outcome');
    expect(carried.filter((j) => j.id === bad || j.id === cancelled).map((j) => j.trigger_id)).toEqual([t.id, t.id]);
    expect(await store.foldTriggerOutcomes()).toBe(0);
  });

  it('writes no outcome for a job no trigger made, and only a later outcome replaces an earlier one', async () => {
    const clock = new ManualClock(Date.UTC(2030, 7, 1));
    const store = ns.createStore({ clock });
    const { id } = await store.insert({ funcname: 'tr.plain' });
    const [claim] = await store.claim([id], LEASE);
    await store.complete({ id, grabToken: claim!.grabToken });
    const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM trigger_outcomes WHERE job_id = $1', [id]);
    expect(rows[0]!.n).toBe(0);

    const t = await store.createTrigger({ spec: '@client', funcname: 'tr.order' });
    const older = (await store.launchTrigger(t.id))!.jobId;
    const newer = (await store.launchTrigger(t.id))!.jobId;
    const claims = await store.claim([older, newer], LEASE);
    clock.advance(SECOND);
    await store.complete({ id: newer, grabToken: claims.find((c) => c.id === newer)!.grabToken });
    await store.foldTriggerOutcomes();
    // An outcome finished earlier, folded later (another scheduler's batch), does not win.
    await ns.pool.query('INSERT INTO trigger_outcomes (trigger_id, job_id, succeeded, error, finished_at) VALUES ($1, $2, true, NULL, $3)', [t.id, older, new Date(Date.UTC(2030, 6, 31))]);
    await store.foldTriggerOutcomes();
    expect(await store.getTrigger(t.id)).toMatchObject({ lastSuccessJobId: newer });
  });
});
