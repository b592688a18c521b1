/**
 * The workflow runtime's part of the JSON-RPC API, against the real PostgreSQL and RabbitMQ,
 * through a real socket and a real controller: check_if_lock_exists (JobCenter's method) is true
 * while a workflow holds the lock, false once it is released or for a lock never taken, and bad
 * parameters are -32001 errors naming them that change nothing; an event raised with raise_event
 * wakes exactly the waiting workflows whose subscription mask it matches.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useRpcController } from './rpc-controller-harness.js';

// A caller with no scope beyond calling functions: the question needs no more.
const { ns, connect: connectAs } = useRpcController({ 'rl-caller': { call: ['x.*'] }, 'rl-admin': { admin: true } });
const connect = (who = 'rl-caller') => connectAs(who);

describe('check_if_lock_exists', () => {
  it('answers true while a workflow holds the lock, false before and after', async () => {
    const conn = await connect();
    expect((await conn.call('check_if_lock_exists', { locktype: 'account', lockvalue: 'a1' })).result).toBe(false);
    await ns.store.workflows.lock('41', 'account', 'a1', { inherit: false, wait: false });
    expect((await conn.call('check_if_lock_exists', { locktype: 'account', lockvalue: 'a1' })).result).toBe(true);
    expect((await conn.call('check_if_lock_exists', { locktype: 'account', lockvalue: 'a2' })).result).toBe(false);
    await ns.store.workflows.releaseAll('41');
    expect((await conn.call('check_if_lock_exists', { locktype: 'account', lockvalue: 'a1' })).result).toBe(false);
  });

  it('refuses bad parameters with -32001 naming them, and changes nothing', async () => {
    await ns.store.workflows.lock('42', 'held', 'h', { inherit: false, wait: false });
    const conn = await connect();
    const notText = fc.oneof(fc.constant(''), fc.constant('x'.repeat(1001)), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }));
    const cases = fc.oneof(
      notText.map((locktype) => ({ params: { locktype, lockvalue: 'v' }, field: 'locktype' })),
      notText.map((lockvalue) => ({ params: { locktype: 't', lockvalue }, field: 'lockvalue' })),
      fc.constant({ params: { lockvalue: 'v' }, field: 'locktype' }),
      fc
        .string({ minLength: 1, maxLength: 8 })
        .filter((k) => k !== 'locktype' && k !== 'lockvalue' && !k.startsWith('__'))
        .map((k) => ({ params: { locktype: 't', lockvalue: 'v', [k]: 1 }, field: k })),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ params, field }) => {
        const reply = await conn.call('check_if_lock_exists', params);
        expect(reply.error?.code, JSON.stringify(reply)).toBe(-32001);
        expect(reply.error?.message.startsWith(`${field}:`), reply.error?.message).toBe(true);
      }),
      { numRuns: 40 },
    );
    expect(await ns.store.workflows.checkIfLockExists('held', 'h')).toMatchObject({ holder: '42' });
    const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_locks');
    expect(rows[0]!.n).toBe(1);
  });
});

describe('raise_event and workflow subscriptions', () => {
  it('wakes the waiting workflows whose mask the event matches, and only those', async () => {
    const w = ns.store.workflows;
    await w.subscribe('61', 'created', { type: 'io.cozy.notes', verb: 'CREATED' });
    await w.subscribe('62', 'deleted', { type: 'io.cozy.notes', verb: 'DELETED' });
    await w.subscribe('63', 'n1', { id: 'n1' });
    for (const [job, name] of [['61', 'created'], ['62', 'deleted'], ['63', 'n1']] as const) expect(await w.takeEvent(job, [name])).toBeNull();
    const admin = await connect('rl-admin');
    const reply = await admin.call('raise_event', { type: 'io.cozy.notes', verb: 'CREATED', doc: { _id: 'n1', title: 't' } });
    expect(reply.error).toBeUndefined();
    const { rows } = await ns.pool.query<{ run_id: string; payload: { name: string; data: unknown } }>("SELECT run_id::text, payload FROM workflow_wakeups WHERE kind = 'event' ORDER BY run_id");
    expect(rows.map((r) => [r.run_id, r.payload.name])).toEqual([
      ['61', 'created'],
      ['63', 'n1'],
    ]);
    expect(rows[0]!.payload.data).toEqual({ type: 'io.cozy.notes', verb: 'CREATED', id: 'n1', doc: { _id: 'n1', title: 't' } });
    // The one not matched still waits.
    expect(await w.cancelEventWait('62')).toBe(true);
  });
});
