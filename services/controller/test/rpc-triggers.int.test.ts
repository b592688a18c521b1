/**
 * Drover's trigger methods over JSON-RPC (create_trigger, list_triggers, get_trigger,
 * update_trigger, delete_trigger, launch_trigger, trigger_jobs) through a real socket against a
 * real PostgreSQL store: what each does, bad parameters as -32001 naming them with nothing
 * written (also generated with fast-check), unknown triggers, and the scopes of the HTTP routes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker } from '@drover/broker';
import { useTestNamespace } from '@drover/testing';
import { createController, type Controller } from '../src/index.js';
import { connectTcpClient, type Message, type TestConnection } from './rpc-client.js';

const ns = useTestNamespace();
let controller: Controller;
const tokens: Record<string, string> = {};
const open: TestConnection[] = [];

beforeAll(async () => {
  tokens['rpc-trig-admin'] = (await ns.store.clients.add({ who: 'rpc-trig-admin', admin: true })).token;
  tokens['rpc-trig-reporter'] = (await ns.store.clients.add({ who: 'rpc-trig-reporter', call: ['report.*'] })).token;
  controller = createController({ store: ns.store, clients: ns.store.clients, broker: new MemoryBroker(), http: false, relay: { sweepMs: 60_000 }, rpc: { tcp: { port: 0 } } });
  await controller.start();
});
afterAll(async () => {
  for (const conn of open) conn.close();
  await controller?.stop();
});

/** A connection that said hello as `who`. */
async function session(who: 'rpc-trig-admin' | 'rpc-trig-reporter'): Promise<TestConnection> {
  const conn = await connectTcpClient(controller.rpcAddresses!.tcp!.port, { answerPings: true });
  open.push(conn);
  expect((await conn.next()).method).toBe('greetings');
  expect(((await conn.call('hello', { who, method: 'password', token: tokens[who] })).result as unknown[])[0]).toBe(true);
  return conn;
}

/** Every trigger and every job: a refused call must change neither. */
async function everything(): Promise<string> {
  return JSON.stringify({ triggers: await ns.store.listTriggers({ limit: 1000 }), jobs: (await ns.store.findJobs({ limit: 1000 })).map((j) => [j.id, j.state]) });
}

/** A -32001 answer whose message starts with the parameter's name. */
function expectBadParameter(answer: Message, field: string): void {
  expect(answer.error?.code, JSON.stringify(answer)).toBe(-32001);
  expect(answer.error?.message.startsWith(`${field}: `), answer.error?.message).toBe(true);
}

describe('trigger methods', () => {
  it('create, get, list, update, launch, its jobs and delete', async () => {
    const conn = await session('rpc-trig-admin');
    const created = (await conn.call('create_trigger', { spec: '@every 30m', funcname: 'report.rpc', arg: { n: 1 }, priority: 3 })).result as Record<string, unknown>;
    expect(created).toMatchObject({ spec: '@every 30m', type: 'every', funcname: 'report.rpc', arg: { n: 1 }, priority: 3, enabled: true });
    const id = created.id as string;
    expect(await ns.store.getTrigger(id)).toMatchObject({ funcname: 'report.rpc' });

    // Ids as numbers, as JobCenter's clients send them, or as decimal strings.
    expect((await conn.call('get_trigger', { trigger_id: Number(id) })).result).toMatchObject({ id, nextFireAt: expect.any(String) });
    expect(((await conn.call('list_triggers', { funcname: 'report.rpc' })).result as { id: string }[]).map((t) => t.id)).toEqual([id]);
    expect((await conn.call('update_trigger', { trigger_id: id, patch: { enabled: false } })).result).toMatchObject({ id, enabled: false });

    const launched = (await conn.call('launch_trigger', { trigger_id: id })).result as { jobId: string; inserted: boolean };
    expect(launched).toMatchObject({ inserted: true, trigger: { fires: 1 } });
    expect(await ns.store.getJob(launched.jobId)).toMatchObject({ funcname: 'report.rpc', arg: { n: 1 }, priority: 3 });
    expect(((await conn.call('trigger_jobs', { trigger_id: id, limit: 10 })).result as { id: string }[]).map((j) => j.id)).toEqual([launched.jobId]);

    expect((await conn.call('delete_trigger', { trigger_id: id })).result).toBe(true);
    expect(await ns.store.getTrigger(id)).toBeNull();
    // Unknown now: null, false, null, null.
    expect((await conn.call('get_trigger', { trigger_id: id })).result).toBeNull();
    expect((await conn.call('delete_trigger', { trigger_id: id })).result).toBe(false);
    expect((await conn.call('launch_trigger', { trigger_id: id })).result).toBeNull();
    expect((await conn.call('update_trigger', { trigger_id: id, patch: {} })).result).toBeNull();
  });

  it('answers bad parameters with -32001 naming them, and writes nothing', async () => {
    const conn = await session('rpc-trig-admin');
    const { id } = await ns.store.createTrigger({ spec: '@client', funcname: 'report.badrpc' });
    const before = await everything();
    const cases: [string, unknown, string][] = [
      ['create_trigger', { spec: '@cron nope', funcname: 'report.x' }, 'spec'],
      ['create_trigger', { spec: '@every 1h', funcname: 'report.x', timeZone: 'Atlantis/Deep' }, 'timeZone'],
      ['create_trigger', { spec: '@every 1h', funcname: 'report.x', colour: 'red' }, 'colour'],
      ['create_trigger', { spec: '@every 1h' }, 'funcname'],
      ['update_trigger', { trigger_id: id, patch: { catchUp: 'sometimes' } }, 'catchUp'],
      ['update_trigger', { trigger_id: id, patch: 'off' }, 'patch'],
      ['update_trigger', { trigger_id: id, enabled: false }, 'enabled'],
      ['get_trigger', { trigger_id: 'abc' }, 'trigger_id'],
      ['get_trigger', {}, 'trigger_id'],
      ['launch_trigger', { trigger_id: -1 }, 'trigger_id'],
      ['delete_trigger', { trigger_id: 1.5 }, 'trigger_id'],
      ['list_triggers', { limit: 0 }, 'limit'],
      ['list_triggers', { before: 'x' }, 'before'],
      ['list_triggers', { funcname: 'has space' }, 'funcname'],
      ['trigger_jobs', { trigger_id: id, limit: 5000 }, 'limit'],
    ];
    for (const [method, params, field] of cases) expectBadParameter(await conn.call(method, params), field);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('get_trigger', 'launch_trigger', 'delete_trigger', 'trigger_jobs'), fc.oneof(fc.string({ maxLength: 5 }).filter((s) => !/^[1-9]\d*$/.test(s)), fc.integer({ max: 0 }), fc.constant(null), fc.boolean()), async (method, bad) => {
        expectBadParameter(await conn.call(method, { trigger_id: bad }), 'trigger_id');
      }),
      { numRuns: 50 },
    );
    expect(await everything()).toBe(before);
  });

  it('gives a client only the triggers of the functions it may call', async () => {
    const conn = await session('rpc-trig-reporter');
    const other = await ns.store.createTrigger({ spec: '@client', funcname: 'billing.rpc' });
    const mine = ((await conn.call('create_trigger', { spec: '@client', funcname: 'report.mine' })).result as { id: string }).id;
    const before = await everything();
    const refused = await conn.call('create_trigger', { spec: '@client', funcname: 'billing.rpc' });
    expect(refused.error).toMatchObject({ code: -32001, message: expect.stringContaining('billing.rpc') });
    expect((await conn.call('update_trigger', { trigger_id: mine, patch: { funcname: 'billing.rpc' } })).error?.code).toBe(-32001);
    expect((await conn.call('list_triggers', { funcname: 'billing.rpc' })).error?.code).toBe(-32001);
    // Another function's trigger is answered as one that does not exist.
    expect((await conn.call('get_trigger', { trigger_id: other.id })).result).toBeNull();
    expect((await conn.call('launch_trigger', { trigger_id: other.id })).result).toBeNull();
    expect((await conn.call('delete_trigger', { trigger_id: other.id })).result).toBe(false);
    expect((await conn.call('update_trigger', { trigger_id: other.id, patch: { enabled: false } })).result).toBeNull();
    expect((await conn.call('trigger_jobs', { trigger_id: other.id })).result).toBeNull();
    const listed = (await conn.call('list_triggers', { limit: 1000 })).result as { funcname: string }[];
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((t) => t.funcname.startsWith('report.'))).toBe(true);
    expect(await everything()).toBe(before);
  });

  it('needs a hello first', async () => {
    const conn = await connectTcpClient(controller.rpcAddresses!.tcp!.port, { answerPings: true });
    open.push(conn);
    await conn.next();
    expect((await conn.call('list_triggers', {})).error?.code).toBe(-32002);
  });
});
