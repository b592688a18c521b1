/**
 * get_api_status against the real PostgreSQL and RabbitMQ, through real sockets: an admin sees
 * the connected clients, the remote workers with their slot groups, the tasks out (and sees them
 * go when they finish), and the job counts from the store; a client without admin is refused with
 * -32001 and learns nothing; a bad `what` is a -32001 naming it.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAmqpBroker, deleteBrokerNamespace, type AmqpBroker } from '@drover/broker';
import { useTestNamespace, waitFor } from '@drover/testing';
import { createController, type Controller } from '../src/index.js';
import { ScriptedWorker, connectTcpClient, type Message, type TestConnection } from './rpc-client.js';

const ns = useTestNamespace();
let broker: AmqpBroker;
let controller: Controller;
const tokens: Record<string, string> = {};
const connections: TestConnection[] = [];
const FUNCNAME = 'st.slow';

beforeAll(async () => {
  broker = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `rpc-status-${ns.namespace}` });
  tokens.admin = (await ns.store.clients.add({ who: 'st-admin', admin: true })).token;
  tokens.worker = (await ns.store.clients.add({ who: 'st-worker', work: ['st.*'] })).token;
  tokens.caller = (await ns.store.clients.add({ who: 'st-caller', call: ['st.*'] })).token;
  controller = createController({ store: ns.store, clients: ns.store.clients, broker, http: false, relay: { sweepMs: 200 }, rpc: { tcp: { port: 0 } } });
  await controller.start();
});

afterAll(async () => {
  for (const c of connections) c.close();
  await controller.stop();
  await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames: [FUNCNAME] });
  await broker.close();
});

async function connect(who: string): Promise<TestConnection> {
  const conn = await connectTcpClient(controller.rpcAddresses!.tcp!.port, { answerPings: true });
  connections.push(conn);
  expect((await conn.next()).method).toBe('greetings');
  expect((await conn.call('hello', { who, method: 'password', token: tokens[who.slice(3)] })).result).toEqual([true, expect.stringContaining('welcome')]);
  return conn;
}

function expectRefusal(reply: Message, start: string): void {
  expect(reply.error, JSON.stringify(reply)).toBeDefined();
  expect(Object.keys(reply.error!).sort()).toEqual(['code', 'message']);
  expect(reply.error!.code).toBe(-32001);
  expect(reply.error!.message.startsWith(start), reply.error!.message).toBe(true);
}

describe('get_api_status', () => {
  it('shows an admin the clients, the workers, the tasks out and the job counts; tasks leave the list when done', async () => {
    const admin = await connect('st-admin');
    const workerConn = await connect('st-worker');
    // The task is held until the test lets it go, so it is out while the status is read.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    new ScriptedWorker(workerConn, async () => {
      await held;
      return { ok: true };
    });
    expect((await workerConn.call('create_slotgroup', { name: 'pool', slots: 3 })).result).toBe('');
    expect((await workerConn.call('announce', { workername: 'slow-1', actionname: FUNCNAME, slots: null, slotgroup: 'pool' })).result).toEqual([true, 'success']);
    const before = new Date();
    const { id } = await ns.store.insert({ funcname: FUNCNAME, arg: { n: 1 } });

    const tasks = await waitFor(
      async () => {
        const list = (await admin.call('get_api_status', { what: 'tasks' })).result as Record<string, unknown>[];
        return list.find((t) => t.taken === true) ? list : null;
      },
      { what: 'the task taken by the worker' },
    );
    expect(tasks).toEqual([{ job_id: Number(id), actionname: FUNCNAME, who: 'st-worker', workername: 'slow-1', since: expect.any(String), taken: true }]);
    expect(Date.parse(tasks[0]!.since as string)).toBeGreaterThanOrEqual(before.getTime() - 1_000);

    const clients = (await admin.call('get_api_status', { what: 'clients' })).result as Record<string, unknown>[];
    expect(clients.map((c) => c.who).sort()).toEqual(['st-admin', 'st-worker']);
    for (const c of clients) {
      expect(c).toEqual({ who: c.who, address: expect.stringMatching(/127\.0\.0\.1/), transport: 'tcp', since: expect.any(String) });
    }

    const workers = (await admin.call('get_api_status', { what: 'workers' })).result;
    expect(workers).toEqual([
      {
        who: 'st-worker',
        address: expect.stringMatching(/127\.0\.0\.1/),
        transport: 'tcp',
        workernames: ['slow-1'],
        actions: [{ actionname: FUNCNAME, workername: 'slow-1', slotgroup: 'pool', filter: null }],
        slotgroups: [{ name: 'pool', slots: 3, actions: [FUNCNAME], tasks_out: 1 }],
        tasks_out: 1,
      },
    ]);

    const jobs = (await admin.call('get_api_status', { what: 'jobs' })).result;
    expect(jobs).toEqual({ [FUNCNAME]: { running: 1 } });

    const stats = (await admin.call('get_api_status', { what: 'stats' })).result as Record<string, unknown>;
    expect(Object.keys(stats).sort()).toEqual(['clients', 'jobs', 'tasks', 'workers']);
    expect(stats.jobs).toEqual({ [FUNCNAME]: { running: 1 } });
    expect(stats.workers).toEqual(workers);
    expect(stats.tasks).toEqual(tasks);

    release();
    await waitFor(async () => ((await ns.store.getJob(id))?.state === 'completed' ? true : null), { what: 'the job completed' });
    await waitFor(async () => (((await admin.call('get_api_status', { what: 'tasks' })).result as unknown[]).length === 0 ? true : null), { what: 'no task out' });
    expect((await admin.call('get_api_status', { what: 'jobs' })).result).toEqual({ [FUNCNAME]: { completed: 1 } });

    // A client that leaves leaves the lists.
    workerConn.close();
    await waitFor(
      async () => {
        const status = (await admin.call('get_api_status', { what: 'stats' })).result as { clients: { who: string }[]; workers: unknown[] };
        return status.clients.every((c) => c.who !== 'st-worker') && status.workers.length === 0 ? true : null;
      },
      { what: 'the worker gone from clients and workers' },
    );
  });

  it('refuses a client without admin with -32001, whatever it asks, and a bad what is a -32001 naming it', async () => {
    const caller = await connect('st-caller');
    for (const what of ['clients', 'workers', 'tasks', 'jobs', 'stats', 'nonsense']) {
      expectRefusal(await caller.call('get_api_status', { what }), 'get_api_status: client st-caller may not read the API status');
    }
    const admin = await connect('st-admin');
    for (const what of [undefined, null, 'client', 7, ['jobs'], { what: 'jobs' }, '']) {
      expectRefusal(await admin.call('get_api_status', what === undefined ? {} : { what }), 'what: must be one of clients, workers, tasks, jobs, stats');
    }
  });

  it('needs hello first', async () => {
    const conn = await connectTcpClient(controller.rpcAddresses!.tcp!.port);
    connections.push(conn);
    expect((await conn.next()).method).toBe('greetings');
    const reply = await conn.call('get_api_status', { what: 'stats' });
    expect(reply.error?.code).toBe(-32002);
  });
});
