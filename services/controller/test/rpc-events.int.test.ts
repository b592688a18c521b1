/**
 * raise_event (Drover's extension to JobCenter's protocol) against the real PostgreSQL and
 * RabbitMQ, through a real socket: an admin's event creates the matching triggers' jobs; a client
 * without admin is refused with -32001 and nothing is written; bad parameters are -32001 errors
 * naming them, and write nothing.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAmqpBroker, deleteBrokerNamespace, type AmqpBroker } from '@drover/broker';
import { useTestNamespace } from '@drover/testing';
import { createController, type Controller } from '../src/index.js';
import { connectTcpClient, type TestConnection } from './rpc-client.js';

const ns = useTestNamespace();
let broker: AmqpBroker;
let controller: Controller;
const tokens: Record<string, string> = {};
const connections: TestConnection[] = [];

beforeAll(async () => {
  broker = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `rpc-events-${ns.namespace}` });
  tokens.admin = (await ns.store.clients.add({ who: 're-admin', admin: true })).token;
  tokens.caller = (await ns.store.clients.add({ who: 're-caller', call: ['*'] })).token;
  // No relay sweep during the test: the jobs stay where the raise put them.
  controller = createController({ store: ns.store, clients: ns.store.clients, broker, http: false, relay: { sweepMs: 600_000 }, rpc: { tcp: { port: 0 } } });
  await controller.start();
});

afterAll(async () => {
  for (const c of connections) c.close();
  await controller.stop();
  await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames: [] });
  await broker.close();
});

async function connect(who: string): Promise<TestConnection> {
  const conn = await connectTcpClient(controller.rpcAddresses!.tcp!.port, { answerPings: true });
  connections.push(conn);
  expect((await conn.next()).method).toBe('greetings');
  expect((await conn.call('hello', { who, method: 'password', token: tokens[who.slice(3)] })).result).toEqual([true, expect.stringContaining('welcome')]);
  return conn;
}

async function jobCount(): Promise<number> {
  const { rows } = await ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM (SELECT id FROM jobs WHERE funcname LIKE 're.%' UNION ALL SELECT id FROM finished_jobs WHERE funcname LIKE 're.%') j");
  return rows[0]!.n;
}

describe('raise_event', () => {
  it("creates the matching triggers' jobs for an admin, and answers their ids", async () => {
    await ns.store.createTrigger({ spec: '@event io.cozy.contacts:UPDATED:!=:email', funcname: 're.changed' });
    await ns.store.createTrigger({ spec: '@event io.cozy.contacts:CREATED', funcname: 're.created' });
    const admin = await connect('re-admin');
    const reply = await admin.call('raise_event', { type: 'io.cozy.contacts', verb: 'UPDATED', doc: { _id: 'c1', email: 'b@x' }, old_doc: { _id: 'c1', email: 'a@x' } });
    expect(reply.error).toBeUndefined();
    const result = reply.result as { matched: number; job_ids: number[] };
    expect(result.matched).toBe(1);
    expect(result.job_ids).toHaveLength(1);
    expect(typeof result.job_ids[0]).toBe('number');
    expect(await ns.store.getJob(String(result.job_ids[0]))).toMatchObject({ funcname: 're.changed', arg: { event: { id: 'c1', oldDoc: { email: 'a@x' } } } });
  });

  it('refuses a client without admin, and bad parameters naming them; none writes', async () => {
    const before = await jobCount();
    const caller = await connect('re-caller');
    const refused = await caller.call('raise_event', { type: 'io.cozy.contacts', verb: 'CREATED', doc: { _id: 'c2' } });
    expect(refused.error?.code).toBe(-32001);
    expect(refused.error?.message).toContain('admin');
    const admin = await connect('re-admin');
    for (const [params, field] of [
      [{ verb: 'CREATED', doc: { _id: 'c' } }, 'type'],
      [{ type: 'io.cozy.contacts', verb: 'created', doc: { _id: 'c' } }, 'verb'],
      [{ type: 'io.cozy.contacts', verb: 'CREATED', doc: { name: 'x' } }, 'doc._id'],
      [{ type: 'io.cozy.contacts', verb: 'UPDATED', doc: { _id: 'c' }, old_doc: 5 }, 'old_doc'],
      [{ type: 'io.cozy.contacts', verb: 'CREATED', doc: { _id: 'c' }, extra: 1 }, 'extra'],
    ] as const) {
      const reply = await admin.call('raise_event', params);
      expect(reply.error?.code, JSON.stringify(reply)).toBe(-32001);
      expect(reply.error?.message.startsWith(`${field}:`), reply.error?.message).toBe(true);
    }
    expect(await jobCount()).toBe(before);
  });
});
