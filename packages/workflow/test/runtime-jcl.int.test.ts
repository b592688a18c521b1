/**
 * The workflow runtime's locks, events and clock, driven by real JCL on PostgreSQL and RabbitMQ:
 * each test loads its JCL source (parsed, checked, compiled), starts a relay, a real worker for its
 * actions and an engine with the built-in step machine, and watches the jobs and the runs' rows.
 * Locks serialize two workflows' sections, a lock-wait cycle fails one workflow instead of hanging
 * both, `inherit` lends a parent's lock to its child (and from child to sibling), a cancelled
 * waiter leaves no wait behind, an API event wakes only the subscriptions it matches (or waits in
 * one until the workflow waits), and sleeps and event and lock timeouts follow the injected clock.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, type JobWithFailures } from '@drover/core';
import { waitFor } from '@drover/testing';
import type { PgJobStore } from '@drover/store';
import { createEvaluator, createMachine, createSandbox, createTypeChecker, loadJcl } from '../src/index.js';
import { useEngineHarness } from './harness.js';
import { lines } from './jcl-test-support.js';

const h = useEngineHarness();
const { ns } = h;

/** How long a workflow may take to finish once nothing holds it back (generous: other suites share the services). */
const FINISH_MS = 20_000;

const types = createTypeChecker({});
const machine = (): ReturnType<typeof createMachine> => createMachine({ evaluator: createEvaluator({ sandbox: createSandbox(), types }), types });

/** Loads one JCL source (lines as for {@link lines}: a leading `>` is a tab) and stores its units. */
async function load(...source: string[]): Promise<void> {
  await h.saveUnits(loadJcl([{ fileName: 'runtime.wf', text: lines(...source) }], { stored: { lookup: () => null }, types }));
}

/** The run rows of these jobs that wait for `kind` (an event, a lock). */
async function waitingFor(kind: string, ids: readonly string[]): Promise<string[]> {
  const { rows } = await ns.pool.query<{ id: string }>(
    "SELECT job_id::text AS id FROM workflow_runs WHERE job_id = ANY($1::bigint[]) AND waiting->>'kind' = $2 ORDER BY 1",
    [ids, kind],
  );
  return rows.map((r) => r.id);
}

async function runExists(id: string): Promise<boolean> {
  return (await ns.pool.query('SELECT 1 FROM workflow_runs WHERE job_id = $1', [id])).rows.length > 0;
}

/** The last failure's error as the engine records it: `{ class, msg }`. */
function errorOf(job: JobWithFailures): { class?: string; msg?: string } {
  return JSON.parse(job.failureLog.at(-1)?.error ?? '{}') as { class?: string; msg?: string };
}

/** The test's handle on {@link startGatedWorker}'s worker. */
interface GatedWorker {
  /** How many calls have started. */
  started(): number;
  /** Lets every call, held or to come, finish. */
  open(): void;
  /** Waits until one call runs while another of these workflows waits for the lock, then opens the gate. */
  oneRunsOneWaits(ids: readonly string[]): Promise<void>;
  expectOneAfterTheOther(): void;
}

/**
 * A real worker serving the action `lk_work`, whose calls record when they start and end and hold
 * on until the test opens a gate: a locked section stays in its call while the test looks.
 */
async function startGatedWorker(): Promise<GatedWorker> {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const spans = new Map<string, { start: number; end: number }>();
  await h.startWorker({
    functions: {
      lk_work: {
        slots: 4,
        maxRetries: 0,
        handler: async (job: { arg: unknown }) => {
          const { who } = job.arg as { who: string };
          const span = { start: performance.now(), end: Number.NaN };
          spans.set(who, span);
          await gate;
          span.end = performance.now();
          return { who };
        },
      },
    },
  });
  return {
    started: () => spans.size,
    open: () => open(),
    // Were the lock not exclusive, both calls would start while the gate is closed.
    oneRunsOneWaits: async (ids) => {
      try {
        await waitFor(async () => spans.size === 1 && (await waitingFor('lock', ids)).length === 1, { what: 'one section running, the other waiting for the lock' });
        expect(spans.size).toBe(1);
      } finally {
        // Never leave a handler waiting: the worker's stop would wait for it.
        open();
      }
    },
    expectOneAfterTheOther: () => {
      expect(spans.size).toBe(2);
      const [first, second] = [...spans.values()].sort((x, y) => x.start - y.start);
      expect(second!.start).toBeGreaterThanOrEqual(first!.end);
    },
  };
}

describe('JCL locks on the real runtime', () => {
  it('runs two workflows contending for one lock one after the other, both to completion', async () => {
    await load(
      'action lk_work:', 'in:', '>who string', 'out:', '>who string',
      'workflow lk_section:', 'in:', '>who string', 'out:', '>who string', 'wfomap:', '><who>',
      'locks:', '>acct _ manual',
      'do:', '>lock acct \'same\'', '>call lk_work:', '>>who = a.who', '>into:', '>>who = o.who', '>unlock acct \'same\'',
    );
    const work = await startGatedWorker();
    await h.startRelay();
    await h.startEngine(machine());
    const ids = (await ns.store.insertMany([{ funcname: 'lk_section', arg: { who: 'a' } }, { funcname: 'lk_section', arg: { who: 'b' } }])).map((r) => r.id);
    // One section runs its call while the other workflow waits for the lock.
    await work.oneRunsOneWaits(ids);
    for (const [i, id] of ids.entries()) {
      const job = await waitFor(h.finished(id), { what: `workflow ${i} to finish`, timeoutMs: FINISH_MS });
      expect(job).toMatchObject({ state: 'completed', result: { who: i === 0 ? 'a' : 'b' } });
    }
    work.expectOneAfterTheOther();
    expect((await ns.pool.query('SELECT 1 FROM workflow_locks')).rows).toHaveLength(0);
  });

  it('fails one of two workflows that would wait on each other\'s locks with a deadlock; the other completes', async () => {
    const crossed = (name: string, first: string, second: string): string[] => [
      `workflow ${name}:`, 'out:', '>done string', 'wfomap:', '><done>', 'locks:', '>x _ manual', '>y _ manual',
      'do:',
      '>subscribe:', '>>name = \'go\'', '>>mask = object(\'type\': \'io.drover.test\', \'doc\': object(\'_id\': \'deadlock\'))',
      `>lock ${first} 'k'`,
      '>wait_for_event:', '>>events = \'go\'', '>>timeout = 600',
      `>lock ${second} 'k'`,
      '>eval:', `>>done = '${first} then ${second}'`,
    ];
    await load(...crossed('dl_a', 'x', 'y'), ...crossed('dl_b', 'y', 'x'));
    await h.startRelay();
    await h.startEngine(machine());
    const ids = (await ns.store.insertMany([{ funcname: 'dl_a', arg: {} }, { funcname: 'dl_b', arg: {} }])).map((r) => r.id);
    await waitFor(async () => (await waitingFor('event', ids)).length === 2, { what: 'both workflows to hold their first lock and wait for the event' });
    // One event through the API's raise path, matching both subscriptions: both go for their second lock.
    await ns.store.raiseEvent({ type: 'io.drover.test', verb: 'CREATED', doc: { _id: 'deadlock' } });
    const jobs = [];
    for (const id of ids) jobs.push(await waitFor(h.finished(id), { what: `workflow ${id} to finish`, timeoutMs: FINISH_MS }));
    const failed = jobs.filter((j) => j.state === 'failed');
    const completed = jobs.filter((j) => j.state === 'completed');
    expect(failed).toHaveLength(1);
    expect(completed).toHaveLength(1);
    expect(errorOf(failed[0]!).msg).toMatch(/deadlock/);
    expect(completed[0]!.result).toEqual({ done: completed[0]!.funcname === 'dl_a' ? 'x then y' : 'y then x' });
    // The survivor waited for its second lock and got it when the failed workflow's end released it.
    expect((await h.stepLog(completed[0]!.id)).map((s) => s.kind)).toContain('lock-granted');
    expect((await ns.pool.query('SELECT 1 FROM workflow_locks')).rows).toHaveLength(0);
  });

  it('lends a parent\'s inherit lock to its child; without inherit the child deadlocks and the parent fails', async () => {
    await load(
      'workflow inh_child:', 'in:', '>key string', 'out:', '>result string', 'wfomap:', '><result>',
      'locks:', '>res _ manual',
      'do:', '>lock res a.key', '>eval:', '>>result = \'used \' . a.key', '>unlock res a.key',
      'workflow inh_parent:', 'out:', '>child string', 'wfomap:', '><child>', 'locks:', '>res r1 inherit',
      'do:', '>call inh_child:', '>>key = \'r1\'', '>into:', '>>child = o.result',
      'workflow own_parent:', 'out:', '>child string', 'wfomap:', '><child>', 'locks:', '>res r2',
      'do:', '>call inh_child:', '>>key = \'r2\'', '>into:', '>>child = o.result',
    );
    await h.startRelay();
    await h.startEngine(machine());
    const { id: lent } = await ns.store.insert({ funcname: 'inh_parent', arg: {} });
    expect(await waitFor(h.finished(lent), { what: 'the inherit parent to finish', timeoutMs: FINISH_MS })).toMatchObject({ state: 'completed', result: { child: 'used r1' } });

    const { id: kept } = await ns.store.insert({ funcname: 'own_parent', arg: {} });
    const parent = await waitFor(h.finished(kept), { what: 'the parent without inherit to finish', timeoutMs: FINISH_MS });
    expect(parent.state).toBe('failed');
    expect(errorOf(parent).class).toBe('childerror');
    const [childId] = await h.children(kept);
    const child = await ns.store.getJob(childId!);
    expect(child?.state).toBe('failed');
    expect(errorOf(child!).msg).toMatch(/deadlock/);
    expect((await ns.pool.query('SELECT 1 FROM workflow_locks')).rows).toHaveLength(0);
  });

  it('hands a parent\'s inherit lock from one child to its waiting sibling, one section after the other', async () => {
    await load(
      'action lk_work:', 'in:', '>who string', 'out:', '>who string',
      'workflow sib_child:', 'in:', '>who string', 'out:', '>who string', 'wfomap:', '><who>',
      'locks:', '>res _ manual',
      'do:', '>lock res \'r3\'', '>call lk_work:', '>>who = a.who', '>into:', '>>who = o.who', '>unlock res \'r3\'',
      'workflow sib_parent:', 'out:', '>who string', 'wfomap:', '><who>', 'locks:', '>res r3 inherit',
      'do:', '>split:',
      '>>callflow sib_child:', '>>>who = \'a\'', '>>into:', '>>>who = o.who',
      '>>callflow sib_child:', '>>>who = \'b\'', '>>into:', '>>>who .= o.who',
    );
    const work = await startGatedWorker();
    await h.startRelay();
    await h.startEngine(machine());
    const { id } = await ns.store.insert({ funcname: 'sib_parent', arg: {} });
    const kids = await waitFor(async () => {
      const c = await h.children(id);
      return c.length === 2 ? c : null;
    }, { what: 'the two children' });
    await work.oneRunsOneWaits(kids);
    expect(await waitFor(h.finished(id), { what: 'the parent to finish', timeoutMs: FINISH_MS })).toMatchObject({ state: 'completed', result: { who: 'ab' } });
    work.expectOneAfterTheOther();
    expect((await ns.pool.query('SELECT 1 FROM workflow_locks')).rows).toHaveLength(0);
  });

  it('drops the lock wait of a workflow cancelled while waiting: the holder\'s release frees the lock', async () => {
    await load(
      'workflow cw_holder:', 'locks:', '>acct _ manual',
      'do:', '>lock acct \'c\'', '>subscribe:', '>>name = \'go\'', '>>mask = object(\'doc\': object(\'_id\': \'cw\'))',
      '>wait_for_event:', '>>events = \'go\'',
      'workflow cw_waiter:', 'locks:', '>acct _ manual', 'do:', '>lock acct \'c\'', '>unlock acct \'c\'',
    );
    await h.startRelay();
    await h.startEngine(machine());
    const { id: holder } = await ns.store.insert({ funcname: 'cw_holder', arg: {} });
    await waitFor(async () => (await waitingFor('event', [holder])).length === 1, { what: 'the holder to take the lock and wait' });
    const { id: waiter } = await ns.store.insert({ funcname: 'cw_waiter', arg: {} });
    await waitFor(async () => (await waitingFor('lock', [waiter])).length === 1, { what: 'the other workflow to wait for the lock' });
    expect(await ns.store.cancel(waiter)).toBe(true);
    await waitFor(async () => !(await runExists(waiter)), { what: 'the cancelled run to end' });
    expect((await ns.pool.query('SELECT 1 FROM workflow_lock_waits')).rows).toHaveLength(0);
    await ns.store.raiseEvent({ type: 'io.drover.test', verb: 'CREATED', doc: { _id: 'cw' } });
    expect(await waitFor(h.finished(holder), { what: 'the holder to finish', timeoutMs: FINISH_MS })).toMatchObject({ state: 'completed' });
    // Not granted to the cancelled workflow on the holder's release: nobody has it.
    expect((await ns.pool.query('SELECT 1 FROM workflow_locks')).rows).toHaveLength(0);
  });
});

describe('JCL events on the real runtime', () => {
  it('wakes exactly the waiting workflows whose mask an API event matches', async () => {
    await load(
      'workflow ev_wait:', 'in:', '>mask object', 'out:', '>got json', 'wfomap:', '><got>',
      'do:',
      '>subscribe:', '>>name = \'sub\'', '>>mask = a.mask',
      '>wait_for_event:', '>>events = \'sub\'', '>>timeout = 3600',
      '>into:', '>>got = o.event',
    );
    await h.startRelay();
    await h.startEngine(machine());
    const masks = [
      { type: 'io.drover.orders', verb: 'CREATED' },
      { doc: { shop: 's1' } },
      { type: 'io.drover.orders', verb: 'DELETED' },
    ];
    const ids = (await ns.store.insertMany(masks.map((mask) => ({ funcname: 'ev_wait', arg: { mask } })))).map((r) => r.id);
    await waitFor(async () => (await waitingFor('event', ids)).length === 3, { what: 'the three workflows to wait for their events' });
    const event = { type: 'io.drover.orders', verb: 'CREATED' as const, doc: { _id: 'o1', shop: 's1' } };
    await ns.store.raiseEvent(event);
    for (const id of ids.slice(0, 2)) {
      const job = await waitFor(h.finished(id), { what: `workflow ${id} to wake and finish`, timeoutMs: FINISH_MS });
      expect(job.state).toBe('completed');
      expect(job.result).toMatchObject({ got: { name: 'sub', data: { type: event.type, verb: event.verb, id: 'o1', doc: event.doc } } });
    }
    // The third was not woken: it still waits, with no wake-up queued for it.
    const third = ids[2]!;
    expect((await ns.store.getJob(third))?.state).toBe('running');
    expect(await waitingFor('event', [third])).toEqual([third]);
    expect((await ns.pool.query("SELECT 1 FROM workflow_wakeups WHERE run_id = $1 AND kind = 'event'", [third])).rows).toHaveLength(0);
    expect(await ns.store.cancel(third)).toBe(true);
    await waitFor(async () => !(await runExists(third)), { what: 'the cancelled run to end' });
    expect((await ns.store.getJob(third))?.state).toBe('cancelled');
    expect((await ns.pool.query('SELECT 1 FROM workflow_subscriptions WHERE job_id = $1', [third])).rows).toHaveLength(0);
  });

  it('keeps an API event that matched while the workflow was busy, and ends its later wait at once', async () => {
    await load(
      'action lk_work:', 'in:', '>who string', 'out:', '>who string',
      'workflow ev_later:', 'out:', '>id string', 'wfomap:', '><id>',
      'do:',
      '>subscribe:', '>>name = \'sub\'', '>>mask = object(\'type\': \'io.drover.later\')',
      '>call lk_work:', '>>who = \'busy\'',
      '>wait_for_event:', '>>events = \'sub\'', '>>timeout = 3600',
      '>into:', '>>id = o.event.data.id',
    );
    const work = await startGatedWorker();
    await h.startRelay();
    await h.startEngine(machine());
    const { id } = await ns.store.insert({ funcname: 'ev_later', arg: {} });
    try {
      // Subscribed, and in its call (the gate closed), not yet waiting for the event.
      await waitFor(async () => work.started() === 1, { what: 'the workflow to be in its call' });
      await ns.store.raiseEvent({ type: 'io.drover.later', verb: 'CREATED', doc: { _id: 'e1' } });
      expect((await ns.pool.query('SELECT 1 FROM workflow_event_queue WHERE job_id = $1', [id])).rows).toHaveLength(1);
    } finally {
      work.open();
    }
    expect(await waitFor(h.finished(id), { what: 'the workflow to finish', timeoutMs: FINISH_MS })).toMatchObject({ state: 'completed', result: { id: 'e1' } });
    // The queued event ended the wait in the step that began it: no step waited for an event.
    expect((await h.stepLog(id)).map((s) => s.kind)).toEqual(['start', 'children', 'event']);
  });
});

describe('JCL timers on the injected clock', () => {
  /**
   * Starts `funcname` on a ManualClock store and engine, waits for its run to wait until
   * `afterMs` past the start, and checks that the clock 1 ms short of it wakes nothing (over
   * several of the engine's sweeps) while the clock at it ends the workflow. `before` runs on the
   * same store and engine first.
   */
  async function wakesOnTime(funcname: string, afterMs: number, before?: (store: PgJobStore) => Promise<void>): Promise<JobWithFailures> {
    const start = Date.UTC(2030, 0, 1);
    const clock = new ManualClock(start);
    const store = ns.createStore({ clock });
    const engine = await h.startEngine(machine(), { store, clock });
    await before?.(store);
    const id = await h.startOn(store, funcname, {});
    return h.wakesExactlyAt(engine, store, clock, id, start + afterMs);
  }

  it('times a wait_for_event out at 60 s on the clock, not at 59.999 s', async () => {
    await load(
      'workflow tm_wait:', 'out:', '>name string', 'wfomap:', '><name>',
      'do:',
      '>subscribe:', '>>name = \'never\'', '>>mask = object(\'type\': \'io.drover.nobody\')',
      '>wait_for_event:', '>>events = \'never\'', '>>timeout = 60',
      '>into:', '>>name = o.event.name',
    );
    const job = await wakesOnTime('tm_wait', 60_000);
    expect(job).toMatchObject({ state: 'completed', result: { name: 'timeout' } });
  });

  it('ends a JCL sleep \'2 minutes\' at 2 minutes on the clock, not before', async () => {
    await load('workflow tm_sleep:', 'out:', '>slept boolean', 'wfomap:', '>slept = true', 'do:', '>sleep \'2 minutes\'');
    const job = await wakesOnTime('tm_sleep', 120_000);
    expect(job).toMatchObject({ state: 'completed', result: { slept: true } });
    expect((await h.stepLog(job.id)).map((s) => s.kind)).toEqual(['start', 'timer']);
  });

  it('times a wait_for_lock out at its wait on the clock, with error class lock, the holder keeping the lock', async () => {
    await load(
      'workflow lw_holder:', 'locks:', '>acct _ manual',
      'do:', '>lock acct \'held\'', '>subscribe:', '>>name = \'never\'', '>>mask = object(\'type\': \'io.drover.nobody\')',
      '>wait_for_event:', '>>events = \'never\'',
      'workflow lw_waiter:', 'out:', '>got string', 'wfomap:', '><got>', 'locks:', '>acct _ manual',
      'do:', '>wait_for_lock acct:', '>>value = \'held\'', '>>wait = 90', '>eval:', '>>got = \'the lock\'',
    );
    let holder = '';
    const job = await wakesOnTime('lw_waiter', 90_000, async (store) => {
      holder = await h.startOn(store, 'lw_holder', {});
      await waitFor(async () => (await waitingFor('event', [holder])).length === 1, { what: 'the holder to take the lock and wait' });
    });
    expect(job.state).toBe('failed');
    expect(errorOf(job)).toMatchObject({ class: 'lock', msg: expect.stringContaining('timeout') });
    // The wait ended with the waiter; the holder still has its lock.
    expect((await ns.pool.query('SELECT 1 FROM workflow_lock_waits')).rows).toHaveLength(0);
    expect((await ns.pool.query<{ holder: string }>("SELECT holder::text FROM workflow_locks WHERE lock_value = 'held'")).rows).toEqual([{ holder }]);
    expect(await ns.store.cancel(holder)).toBe(true);
    await waitFor(async () => !(await runExists(holder)), { what: 'the cancelled holder to end' });
    expect((await ns.pool.query('SELECT 1 FROM workflow_locks')).rows).toHaveLength(0);
  });
});
