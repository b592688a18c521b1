/**
 * Role: WorkflowStore, events — subscriptions matched by mask (jsonb containment), an event
 * waking a waiting workflow or queued for a later wait, an event raised through the API's
 * raiseEvent waking exactly the subscribed workflows whose mask it matches, a job's end, and bad
 * input. Runs on both adapters; raises racing each other are in workflow-events-race.pg.int.test.ts.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, ValidationError, type Json } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();

beforeEach(async () => {
  for (const table of ['workflow_subscriptions', 'workflow_event_waits', 'workflow_wakeups']) await ns.pool.query(`DELETE FROM ${table}`);
});

interface Wakeup {
  run_id: string;
  payload: { name: string; eventId: string; when: string; data: Record<string, Json> };
}

async function eventWakeups(): Promise<Wakeup[]> {
  const { rows } = await ns.pool.query<Wakeup>("SELECT run_id::text, payload FROM workflow_wakeups WHERE kind = 'event' ORDER BY id");
  return rows;
}

async function queued(jobId: string): Promise<unknown[]> {
  const { rows } = await ns.pool.query<{ name: string; data: unknown }>('SELECT name, data FROM workflow_event_queue WHERE job_id = $1 ORDER BY seq', [jobId]);
  return rows;
}

describe('raiseWorkflowEvent', () => {
  it('wakes a job waiting on a subscription whose mask the data contains, and leaves the others alone', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const w = ns.createStore({ clock }).workflows;
    await w.subscribe('1', 'paid', { kind: 'payment', account: { id: 7 } });
    await w.subscribe('2', 'other', { kind: 'refund' });
    expect(await w.takeEvent('1', ['paid'])).toBeNull();
    expect(await w.takeEvent('2', ['other'])).toBeNull();

    const data = { kind: 'payment', account: { id: 7, name: 'x' }, amount: 5 };
    const raised = await w.raiseWorkflowEvent(data);
    expect(raised).toMatchObject({ woken: 1, queued: 0 });
    expect(await eventWakeups()).toEqual([{ run_id: '1', payload: { name: 'paid', eventId: raised.eventId, when: expect.stringMatching(/^2030-01-01T00:00:00/) as string, data } }]);
    // Woken once: its wait is over, so a second event is queued for its next wait.
    expect(await w.raiseWorkflowEvent({ kind: 'payment', account: { id: 7 } })).toMatchObject({ woken: 0, queued: 1 });
    expect(await eventWakeups()).toHaveLength(1);
    // Not contained: a different value, a missing key, a mask's object against a scalar.
    const misses: Record<string, Json>[] = [{ kind: 'payment', account: { id: 8 } }, { kind: 'payment' }, { kind: 'payment', account: 7 }];
    for (const miss of misses) {
      expect(await w.raiseWorkflowEvent(miss)).toEqual({ eventId: null, woken: 0, queued: 0 });
    }
    expect(await queued('2')).toEqual([]);
    expect(await eventWakeups()).toHaveLength(1);
  });

  it('queues an event for a subscription not yet waited on, and the wait takes it at once, oldest first', async () => {
    const w = ns.store.workflows;
    await w.subscribe('3', 'a', { topic: 'a' });
    await w.subscribe('3', 'b', { topic: 'b' });
    await w.raiseWorkflowEvent({ topic: 'b', n: 1 });
    await w.raiseWorkflowEvent({ topic: 'a', n: 2 });
    await w.raiseWorkflowEvent({ topic: 'b', n: 3 });
    expect(await w.takeEvent('3', ['a'])).toMatchObject({ name: 'a', data: { topic: 'a', n: 2 } });
    expect(await w.takeEvent('3', ['a', 'b'])).toMatchObject({ name: 'b', data: { topic: 'b', n: 1 } });
    const third = await w.takeEvent('3', ['b']);
    expect(third).toMatchObject({ name: 'b', data: { n: 3 } });
    expect(Number.isNaN(Date.parse(third!.when))).toBe(false);
    // Nothing left: now it waits, and the next raise wakes it.
    expect(await w.takeEvent('3', ['a', 'b'])).toBeNull();
    expect(await w.raiseWorkflowEvent({ topic: 'a', n: 4 })).toMatchObject({ woken: 1, queued: 0 });
    expect((await eventWakeups()).map((r) => [r.run_id, r.payload.name, r.payload.data.n])).toEqual([['3', 'a', 4]]);
  });

  it('ends the wait on its timeout, drops queued events with their subscription, and forgets a job at its end', async () => {
    const w = ns.store.workflows;
    await w.subscribe('4', 'a', {});
    await w.subscribe('4', 'b', { x: 1 });
    expect(await w.takeEvent('4', ['b'])).toBeNull();
    expect(await w.cancelEventWait('4')).toBe(true);
    expect(await w.cancelEventWait('4')).toBe(false);
    await w.raiseWorkflowEvent({ x: 1 });
    expect(await eventWakeups()).toEqual([]);
    expect(await queued('4')).toHaveLength(2);
    expect(await w.unsubscribe('4', 'b')).toBe(true);
    expect(await w.unsubscribe('4', 'b')).toBe(false);
    expect(await queued('4')).toEqual([{ name: 'a', data: { x: 1 } }]);
    await w.takeEvent('4', ['a']);
    expect(await w.takeEvent('4', ['a'])).toBeNull();
    await w.unsubscribeAll('4');
    expect(await w.raiseWorkflowEvent({ x: 1 })).toMatchObject({ woken: 0, queued: 0 });
    const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_event_waits');
    expect(rows[0]!.n).toBe(0);
  });
});

describe('events raised through the API', () => {
  it('wake exactly the waiting workflows whose mask matches the event object { type, verb, id, doc }', async () => {
    const w = ns.store.workflows;
    const masks: [string, Record<string, Json>][] = [
      ['10', { type: 'io.cozy.files', verb: 'CREATED' }],
      ['11', { type: 'io.cozy.files', doc: { dir_id: 'd1' } }],
      ['12', { type: 'io.cozy.files', verb: 'DELETED' }],
      ['13', { type: 'io.cozy.contacts' }],
      ['14', { id: 'f2' }],
    ];
    for (const [job, mask] of masks) {
      await w.subscribe(job, 'ev', mask);
      expect(await w.takeEvent(job, ['ev'])).toBeNull();
    }
    await ns.store.raiseEvent({ type: 'io.cozy.files', verb: 'CREATED', doc: { _id: 'f1', dir_id: 'd1', name: 'a.txt' } });
    const woken = await eventWakeups();
    expect(woken.map((r) => r.run_id).sort()).toEqual(['10', '11']);
    expect(woken[0]!.payload.data).toEqual({ type: 'io.cozy.files', verb: 'CREATED', id: 'f1', doc: { _id: 'f1', dir_id: 'd1', name: 'a.txt' } });
    for (const job of ['12', '13', '14']) expect(await queued(job)).toEqual([]);
  });
});

describe('bad input', () => {
  it('refuses a bad job id, name, mask or names list, naming it, and changes nothing', async () => {
    const w = ns.store.workflows;
    await w.subscribe('5', 'kept', { a: 1 });
    const snapshot = async (): Promise<unknown> => (await ns.pool.query('SELECT job_id::text, name, mask FROM workflow_subscriptions ORDER BY job_id, name')).rows;
    const before = await snapshot();
    const notText = fc.oneof(fc.constant(''), fc.constant('n'.repeat(201)), fc.constant('a\u0000'), fc.integer(), fc.constant(null), fc.boolean());
    const notMask = fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({ a: Number.NaN }), fc.constant({ s: 'x\u0000' }));
    const cases = fc.oneof(
      fc.record({ field: fc.constant('jobId'), run: fc.constant(() => w.subscribe('0', 'n', {})) }),
      fc.record({ field: fc.constant('name'), run: notText.map((n) => () => w.subscribe('5', n as string, {})) }),
      fc.record({ field: fc.constant('mask'), run: notMask.map((m) => () => w.subscribe('5', 'kept', m as Record<string, Json>)) }),
      fc.record({ field: fc.constant('name'), run: notText.map((n) => () => w.unsubscribe('5', n as string)) }),
      fc.record({ field: fc.constant('data'), run: notMask.map((m) => () => w.raiseWorkflowEvent(m as Record<string, Json>)) }),
      fc.record({ field: fc.constant('names'), run: fc.constant(() => w.takeEvent('5', [])) }),
      fc.record({ field: fc.constant('names[1]'), run: notText.map((n) => () => w.takeEvent('5', ['kept', n as string])) }),
      fc.record({ field: fc.constant('names'), run: fc.constant(() => w.takeEvent('5', ['kept', 'unknown'])) }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ field, run }) => {
        const err = await (run as () => Promise<unknown>)().then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field.startsWith(field), (err as Error).message).toBe(true);
      }),
      { numRuns: 80 },
    );
    expect(await snapshot()).toEqual(before);
    const { rows } = await ns.pool.query<{ n: number }>('SELECT (SELECT count(*) FROM workflow_event_waits) + (SELECT count(*) FROM workflow_event_queue) AS n');
    expect(Number(rows[0]!.n)).toBe(0);
  });
});
