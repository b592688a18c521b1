/**
 * Role: EventStore — raising events against `@event` triggers, firing `@webhook` triggers, and
 * debounce on both — with time moved by a manual clock. Runs on both adapters. The HTTP side of
 * webhooks (signatures, limits, the throttle) is in services/controller/test/webhooks.int.test.ts;
 * debounce across killed processes in test/e2e/debounce-kill.e2e.test.ts.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, ValidationError, type DroverEvent } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();
const SECOND = 1000;

beforeEach(async () => {
  await ns.pool.query('DELETE FROM triggers');
  await ns.pool.query('DELETE FROM jobs');
});

interface JobRow {
  id: string;
  trigger_id: string | null;
  arg: { arg: unknown; event?: Record<string, unknown>; webhook?: Record<string, unknown> };
  state: string;
  run_after: Date;
}

async function jobsOf(funcname: string): Promise<JobRow[]> {
  const { rows } = await ns.pool.query<JobRow>('SELECT id::text, trigger_id::text, arg, state, run_after FROM jobs WHERE funcname = $1 ORDER BY id', [funcname]);
  return rows;
}

async function countJobs(): Promise<number> {
  const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs');
  return rows[0]!.n;
}

const created = (id: string, extra: Record<string, unknown> = {}): DroverEvent => ({ type: 'io.cozy.files', verb: 'CREATED', doc: { _id: id, dir_id: 'd1', ...extra } });

describe('raiseEvent', () => {
  it('creates one job per matching enabled trigger, carrying the trigger arg and the event, and none for the others', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const store = ns.createStore({ clock });
    const any = await store.createTrigger({ spec: '@event io.cozy.files', funcname: 'ev.any', arg: { n: 1 } });
    const inDir = await store.createTrigger({ spec: '@event io.cozy.files:CREATED:d1:dir_id', funcname: 'ev.dir' });
    await store.createTrigger({ spec: '@event io.cozy.files:DELETED', funcname: 'ev.deleted' });
    await store.createTrigger({ spec: '@event io.cozy.contacts', funcname: 'ev.contacts' });
    await store.createTrigger({ spec: '@event io.cozy.files', funcname: 'ev.disabled', enabled: false });

    const raised = await store.raiseEvent(created('f1', { name: 'a.txt' }));
    expect(raised.matched).toBe(2);
    expect(raised.jobIds).toHaveLength(2);
    const [job] = await jobsOf('ev.any');
    expect(job).toMatchObject({ trigger_id: any.id, state: 'ready', arg: { arg: { n: 1 }, event: { type: 'io.cozy.files', verb: 'CREATED', id: 'f1', doc: { _id: 'f1', dir_id: 'd1', name: 'a.txt' } } } });
    expect(job!.run_after.getTime()).toBe(clock.now().getTime());
    expect((await jobsOf('ev.dir'))[0]).toMatchObject({ trigger_id: inDir.id, arg: { arg: null } });
    for (const f of ['ev.deleted', 'ev.contacts', 'ev.disabled']) expect(await jobsOf(f)).toHaveLength(0);
    expect(await store.getTrigger(any.id)).toMatchObject({ fires: 1, lastJobId: job!.id, lastFiredAt: clock.now() });

    expect(await store.raiseEvent({ type: 'io.cozy.notes', verb: 'CREATED', doc: { id: 'x' } })).toEqual({ matched: 0, jobIds: [] });
  });

  it('makes all its jobs or none: a trigger whose job cannot be inserted rolls the whole raise back', async () => {
    const store = ns.createStore();
    await store.createTrigger({ spec: '@event io.cozy.files', funcname: 'ev.atomic.a' });
    await store.createTrigger({ spec: '@event io.cozy.files', funcname: 'ev.atomic.b' });
    // A check only one of the two jobs breaks: its insert fails after the other's was made.
    await ns.pool.query(`ALTER TABLE jobs ADD CONSTRAINT ev_atomic CHECK (funcname <> 'ev.atomic.b')`);
    try {
      await expect(store.raiseEvent(created('f1'))).rejects.toThrow(/ev_atomic/);
    } finally {
      await ns.pool.query('ALTER TABLE jobs DROP CONSTRAINT ev_atomic');
    }
    expect(await countJobs()).toBe(0);
    expect((await store.listTriggers()).map((t) => t.fires)).toEqual([0, 0]);
  });

  it('refuses bad events naming the field, and writes nothing', async () => {
    const store = ns.createStore();
    await store.createTrigger({ spec: '@event io.cozy.files', funcname: 'ev.bad' });
    const bad: [unknown, string][] = [
      [{ verb: 'CREATED', doc: { _id: 'a' } }, 'type'],
      [{ type: 'io.cozy.files', verb: 'TOUCHED', doc: { _id: 'a' } }, 'verb'],
      [{ type: 'io.cozy.files', verb: 'CREATED', doc: {} }, 'doc._id'],
      [{ type: 'io.cozy.files', verb: 'CREATED', doc: { _id: 'a', s: 'a\u0000' } }, 'doc.s'],
    ];
    for (const [event, field] of bad) {
      const err = await store.raiseEvent(event as DroverEvent).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
    }
    await fc.assert(
      fc.asyncProperty(fc.record({ type: fc.oneof(fc.constant('io.cozy.files'), fc.string()), verb: fc.oneof(fc.constant('CREATED'), fc.string()), doc: fc.anything() }), async (event) => {
        const err = await store.raiseEvent(event as DroverEvent).catch((e: unknown) => e);
        if (err === undefined) return;
        expect(err).toBeInstanceOf(ValidationError);
        expect(['type', 'verb', 'doc'].some((f) => (err as ValidationError).field.startsWith(f))).toBe(true);
      }),
      { numRuns: 100 },
    );
    await ns.pool.query('DELETE FROM jobs');
    for (const [event] of bad) await store.raiseEvent(event as DroverEvent).catch(() => undefined);
    expect(await countJobs()).toBe(0);
  });

  it('refuses a trigger with a malformed selector or an unknown verb, naming the spec, and writes nothing', async () => {
    const store = ns.createStore();
    for (const spec of ['@event io.cozy.files:TOUCHED', '@event io.cozy.files:CREATED:a:b:c', '@event io.cozy.files:UPDATED:!=']) {
      const err = await store.createTrigger({ spec, funcname: 'ev.badspec' }).catch((e: unknown) => e);
      expect((err as ValidationError).field).toBe('spec');
    }
    expect(await store.listTriggers()).toHaveLength(0);
  });
});

describe('debounce', () => {
  it('100 matching events in 5 s on a trigger with a 30 s debounce make one job, due 30 s after the first', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const store = ns.createStore({ clock });
    const t = await store.createTrigger({ spec: '@event io.cozy.files:CREATED', funcname: 'ev.debounced', debounce: '30s' });
    const first = clock.now().getTime();
    const made: string[] = [];
    for (let i = 0; i < 100; i++) {
      made.push(...(await store.raiseEvent(created(`f${i}`))).jobIds);
      clock.advance(50); // 100 events over 5 s of clock time
    }
    expect(made).toHaveLength(1);
    const jobs = await jobsOf('ev.debounced');
    expect(jobs).toHaveLength(1);
    // The first event of the window is the one the job carries.
    expect(jobs[0]).toMatchObject({ state: 'scheduled', trigger_id: t.id, arg: { event: { id: 'f0' } } });
    expect(jobs[0]!.run_after.getTime()).toBe(first + 30 * SECOND);

    // Still inside the window: nothing more.
    clock.set(first + 30 * SECOND - 1);
    expect((await store.raiseEvent(created('late'))).jobIds).toEqual([]);
    // The window has ended: the job is due, and the next match opens a new window.
    clock.set(first + 30 * SECOND);
    expect(await store.promoteDue()).toBe(1);
    const next = await store.raiseEvent(created('next'));
    expect(next.jobIds).toHaveLength(1);
    expect(await jobsOf('ev.debounced')).toHaveLength(2);
    expect(await store.getTrigger(t.id)).toMatchObject({ fires: 2, lastJobId: next.jobIds[0] });
  });

  it('with a uniqkey, a match while the previous job holds the key opens no window: the next match after it finished makes a job', async () => {
    const clock = new ManualClock(Date.UTC(2032, 0, 1));
    const store = ns.createStore({ clock });
    await store.createTrigger({ spec: '@event io.cozy.files', funcname: 'ev.keyed', debounce: '30s', uniqkey: 'reindex' });
    const [first] = (await store.raiseEvent(created('k1'))).jobIds;
    clock.advance(30 * SECOND);
    await store.promoteDue();
    const [running] = await store.claim([first!], { leaseMs: 60 * SECOND });
    // The job runs and holds the key: this match makes nothing, and must open no window.
    clock.advance(10 * SECOND);
    expect((await store.raiseEvent(created('k2'))).jobIds).toEqual([]);
    await store.complete(running!);
    clock.advance(10 * SECOND);
    expect((await store.raiseEvent(created('k3'))).jobIds).toHaveLength(1);
  });

  it('concurrent raises on a debounced trigger still make one job', async () => {
    const clock = new ManualClock(Date.UTC(2031, 0, 1));
    const stores = [ns.createStore({ clock, max: 2 }), ns.createStore({ clock, max: 2 }), ns.createStore({ clock, max: 2 })];
    await stores[0]!.createTrigger({ spec: '@event io.cozy.files', funcname: 'ev.race', debounce: '30s' });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 3]!.raiseEvent(created(`r${i}`))));
    expect(results.flatMap((r) => r.jobIds)).toHaveLength(1);
    expect(await jobsOf('ev.race')).toHaveLength(1);
  });
});

describe('webhooks', () => {
  it('gives each @webhook an unguessable id, and a POST to it creates one job carrying the body', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const store = ns.createStore({ clock });
    const hook = await store.createTrigger({ spec: '@webhook', funcname: 'wh.store', arg: 'static', webhookSecret: 'a-secret-of-16-chars' });
    const other = await store.createTrigger({ spec: '@webhook', funcname: 'wh.store' });
    expect(hook.webhookId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(hook.webhookId).not.toBe(other.webhookId);
    expect(hook).toMatchObject({ webhookSigned: true });
    expect(other).toMatchObject({ webhookSigned: false });
    expect(JSON.stringify(hook)).not.toContain('a-secret-of-16-chars');
    expect(await store.webhookTarget(hook.webhookId!)).toEqual({ triggerId: hook.id, enabled: true, secret: 'a-secret-of-16-chars' });
    expect(await store.webhookTarget('x'.repeat(32))).toBeNull();

    const fired = await store.fireWebhook(hook.webhookId!, { contentType: 'application/json', body: { ref: 'main' } });
    expect(fired.found).toBe(true);
    const [job] = await jobsOf('wh.store');
    expect(job).toMatchObject({ id: fired.jobId, trigger_id: hook.id, state: 'ready', arg: { arg: 'static', webhook: { contentType: 'application/json', body: { ref: 'main' } } } });

    // A disabled webhook is as good as unknown, and writes nothing.
    await store.enableTrigger(hook.id, false);
    expect(await store.fireWebhook(hook.webhookId!, { contentType: 'text/plain', body: 'x' })).toEqual({ found: false, jobId: null });
    expect(await jobsOf('wh.store')).toHaveLength(1);
    // A body PostgreSQL cannot store is refused naming it, and writes nothing.
    const err = await store.fireWebhook(other.webhookId!, { contentType: 'text/plain', body: 'nul\u0000' }).catch((e: unknown) => e);
    expect((err as ValidationError).field).toBe('body');
    expect(await jobsOf('wh.store')).toHaveLength(1);
  });

  it('a webhook keeps its id through an update; its secret is refused on other types', async () => {
    const store = ns.createStore();
    const hook = await store.createTrigger({ spec: '@webhook', funcname: 'wh.update', webhookSecret: 'a-secret-of-16-chars' });
    const updated = await store.updateTrigger(hook.id, { arg: { v: 2 } });
    expect(updated).toMatchObject({ webhookId: hook.webhookId, webhookSigned: true });
    const err = await store.createTrigger({ spec: '@client', funcname: 'wh.update', webhookSecret: 'a-secret-of-16-chars' }).catch((e: unknown) => e);
    expect((err as ValidationError).field).toBe('webhookSecret');
    const short = await store.createTrigger({ spec: '@webhook', funcname: 'wh.update', webhookSecret: 'short' }).catch((e: unknown) => e);
    expect((short as ValidationError).field).toBe('webhookSecret');
    const changed = await store.updateTrigger(hook.id, { spec: '@client' });
    expect(changed).toMatchObject({ type: 'client', webhookId: null, webhookSigned: false });
  });

  it('debounces a webhook too', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const store = ns.createStore({ clock });
    const hook = await store.createTrigger({ spec: '@webhook', funcname: 'wh.debounced', debounce: '10s' });
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await store.fireWebhook(hook.webhookId!, { contentType: 'application/json', body: { i } })).jobId);
      clock.advance(SECOND);
    }
    expect(ids.filter((id) => id !== null)).toHaveLength(1);
    const jobs = await jobsOf('wh.debounced');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ state: 'scheduled', arg: { webhook: { body: { i: 0 } } } });
  });
});
