/**
 * check_if_lock_exists (JobCenter's method) against the real PostgreSQL and RabbitMQ, through a
 * real socket and a real controller: true while a workflow holds the lock, false once it is
 * released or for a lock never taken; bad parameters are -32001 errors naming them, and change
 * nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAmqpBroker, deleteBrokerNamespace, type AmqpBroker } from '@drover/broker';
import { useTestNamespace } from '@drover/testing';
import { createController, type Controller } from '../src/index.js';
import { connectTcpClient, type TestConnection } from './rpc-client.js';

const ns = useTestNamespace();
let broker: AmqpBroker;
let controller: Controller;
let token = '';
const connections: TestConnection[] = [];

beforeAll(async () => {
  broker = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `rpc-locks-${ns.namespace}` });
  // A caller with no scope beyond calling functions: the question needs no more.
  token = (await ns.store.clients.add({ who: 'rl-caller', call: ['x.*'] })).token;
  controller = createController({ store: ns.store, clients: ns.store.clients, broker, http: false, relay: { sweepMs: 600_000 }, rpc: { tcp: { port: 0 } } });
  await controller.start();
});

afterAll(async () => {
  for (const c of connections) c.close();
  await controller.stop();
  await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames: [] });
  await broker.close();
});

async function connect(): Promise<TestConnection> {
  const conn = await connectTcpClient(controller.rpcAddresses!.tcp!.port, { answerPings: true });
  connections.push(conn);
  expect((await conn.next()).method).toBe('greetings');
  expect((await conn.call('hello', { who: 'rl-caller', method: 'password', token })).result).toEqual([true, expect.stringContaining('welcome')]);
  return conn;
}

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
