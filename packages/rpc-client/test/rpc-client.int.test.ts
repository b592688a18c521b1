/**
 * @drover/rpc-client against a real controller (real PostgreSQL and RabbitMQ, real sockets): a
 * call through a remote worker of this client, callNb with getJobStatus, findJobs, soft and fatal
 * errors, the call timeout, the WebSocket transport, refusals, and reconnection: the controller
 * stops and a second one starts on the same port while a worker and a caller are connected; both
 * come back, and a call made while the API was down completes.
 * The scheduler's part (promoting retried jobs) is a loop calling the store's own statement.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAmqpBroker, deleteBrokerNamespace, type AmqpBroker } from '@drover/broker';
import { ValidationError, type JobWithFailures } from '@drover/core';
import { createController, type Controller, type ControllerOptions } from '@drover/controller';
import { AuthError, CallError, CallTimeoutError, FatalError, connectApi, type ConnectApiOptions, type RpcClient } from '@drover/rpc-client';
import { useTestNamespace, waitFor } from '@drover/testing';
import { makeTestCertificates, type TestCertificates } from '../../../services/controller/test/tls-certificates.js';

const ns = useTestNamespace();
let broker: AmqpBroker;
let controller: Controller;
let scheduler: NodeJS.Timeout;
let tcpPort = 0;
let certs: TestCertificates;
const tokens: Record<string, string> = {};
const clients: RpcClient[] = [];
const funcnames = new Set(['rc.add', 'rc.held', 'rc.flaky', 'rc.fatal', 'rc.answer', 'rc.echo']);

function controllerOptions(port: number): ControllerOptions {
  return {
    store: ns.store,
    clients: ns.store.clients,
    broker,
    http: { port: 0 },
    relay: { sweepMs: 200 },
    rpc: { tcp: { port }, tls: { port: 0, cert: certs.server.cert, key: certs.server.key, clientCa: certs.ca }, workers: { retryDelayMs: 0, offerTimeoutMs: 2_000, drainMs: 1_000 } },
  };
}

beforeAll(async () => {
  broker = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `rpc-client-${ns.namespace}` });
  tokens.worker = (await ns.store.clients.add({ who: 'rc-worker', work: ['rc.*'] })).token;
  tokens.caller = (await ns.store.clients.add({ who: 'rc-caller', call: ['rc.*'] })).token;
  await ns.store.clients.add({ who: 'rc-cert', call: ['rc.*'], certificateCn: 'worker-1' });
  certs = makeTestCertificates();
  controller = createController(controllerOptions(0));
  await controller.start();
  tcpPort = controller.rpcAddresses!.tcp!.port;
  // The scheduler's part: a failed attempt (retried at once here) comes due again.
  scheduler = setInterval(() => {
    ns.store.promoteDue().catch(() => undefined);
  }, 100);
});

afterAll(async () => {
  clearInterval(scheduler);
  for (const c of clients) await c.close();
  await controller.stop();
  await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames });
  await broker.close();
});

async function open(who: 'worker' | 'caller', extra: Partial<ConnectApiOptions> = {}): Promise<RpcClient> {
  const client = await connectApi({ url: `tcp://127.0.0.1:${tcpPort}`, who: `rc-${who}`, token: tokens[who]!, reconnect: { minDelayMs: 50, maxDelayMs: 500 }, ...extra });
  clients.push(client);
  return client;
}

function finished(id: string): () => Promise<JobWithFailures | null> {
  return async () => {
    const job = await ns.store.getJob(id);
    return job && ['completed', 'failed', 'cancelled'].includes(job.state) ? job : null;
  };
}

/** A gate a handler waits on, opened by the test. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

let worker: RpcClient;
let caller: RpcClient;
const heldGate = { current: gate() };
let flakyCalls = 0;

describe('the rpc client', () => {
  beforeAll(async () => {
    worker = await open('worker');
    caller = await open('caller');
    await worker.createSlotGroup('pool', 4);
    await worker.work('rc.add', ({ a, b }) => ({ sum: (a as number) + (b as number) }), { slotgroup: 'pool' });
    await worker.work('rc.answer', () => 42, { slotgroup: 'pool' });
    await worker.work('rc.held', async ({ n }) => {
      await heldGate.current.wait;
      return { n };
    }, { slots: 4 });
    await worker.work('rc.flaky', () => {
      flakyCalls += 1;
      if (flakyCalls === 1) throw new Error('the first attempt trips');
      return { attempt: flakyCalls };
    });
    await worker.work('rc.fatal', () => {
      throw new FatalError('no such account');
    });
  });

  it('calls a function worked by a remote worker of this client and returns its outargs', async () => {
    expect(await caller.call('rc.add', { a: 2, b: 3 }, { timeoutS: 30 })).toEqual({ sum: 5 });
    // A value that is not an object travels as {"result": value}.
    expect(await caller.call('rc.answer', {}, { timeoutS: 30 })).toEqual({ result: 42 });
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => caller.call('rc.add', { a: i, b: 1 }, { timeoutS: 30 })));
    expect(many).toEqual(Array.from({ length: 20 }, (_, i) => ({ sum: i + 1 })));
  });

  it('callNb answers the job id at once; getJobStatus reads it unfinished, then finished with its outargs', async () => {
    heldGate.current = gate();
    const id = await caller.callNb('rc.held', { n: 7 });
    expect(id).toMatch(/^[1-9][0-9]*$/);
    await waitFor(async () => ((await ns.store.getJob(id))?.state === 'running' ? true : null), { what: 'the held job running' });
    expect(await caller.getJobStatus(id)).toEqual({ finished: false });
    heldGate.current.open();
    const status = await waitFor(async () => {
      const s = await caller.getJobStatus(Number(id));
      return s.finished ? s : null;
    }, { what: 'the job finished' });
    expect(status).toEqual({ finished: true, outargs: { n: 7 } });
    await expect(caller.getJobStatus('999999999')).rejects.toThrow('get_job_status: no job 999999999');
  });

  it('findJobs finds jobs whose inargs contain the filter', async () => {
    const tag = `find-${Date.now()}`;
    const a = await caller.callNb('rc.add', { a: 1, b: 1, tag, order: { customer: 7, lines: 3 } });
    const b = await caller.callNb('rc.add', { a: 1, b: 2, tag, order: { customer: 8 } });
    await waitFor(finished(b), { what: 'the second job done' });
    expect((await caller.findJobs({ tag })).sort()).toEqual([a, b].sort());
    expect(await caller.findJobs({ tag, order: { customer: 7 } })).toEqual([a]);
    await expect(caller.findJobs({})).rejects.toThrow(ValidationError);
  });

  it('a thrown error is a soft failure, retried; a FatalError fails the job for good', async () => {
    expect(await caller.call('rc.flaky', {}, { timeoutS: 30 })).toEqual({ attempt: 2 });
    const [flaky] = await ns.store.findJobs({ funcname: 'rc.flaky' });
    const flakyJob = await ns.store.getJob(flaky!.id);
    expect(flakyJob?.state).toBe('completed');
    expect(flakyJob?.failureLog.map((f) => f.error)).toEqual(['the first attempt trips']);

    const err = await caller.call('rc.fatal', { account: 1 }, { timeoutS: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallError);
    const callError = err as CallError;
    expect(callError.message).toContain('no such account');
    const job = await ns.store.getJob(callError.jobId);
    expect(job?.state).toBe('failed');
    // Fatal: one attempt, no retry, though the job had retries left.
    expect(job?.attempts).toBe(1);
    expect(job?.maxRetries).toBeGreaterThan(0);
    expect(job?.failureLog.map((f) => f.error)).toEqual(['no such account']);
  });

  it('a call that does not finish within its timeout rejects with CallTimeoutError; the job goes on', async () => {
    heldGate.current = gate();
    const err = await caller.call('rc.held', { n: 1 }, { timeoutS: 0.5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
    const jobId = (err as CallTimeoutError).jobId;
    expect((await ns.store.getJob(jobId))?.state).toBe('running');
    heldGate.current.open();
    expect((await waitFor(finished(jobId), { what: 'the timed-out job completes' })).state).toBe('completed');
  });

  it('works over WebSocket too', async () => {
    const ws = await connectApi({ url: controller.url!.replace(/^http/, 'ws'), who: 'rc-caller', token: tokens.caller! });
    clients.push(ws);
    expect(await ws.call('rc.add', { a: 40, b: 2 }, { timeoutS: 30 })).toEqual({ sum: 42 });
  });

  it('works over TLS, with a client certificate naming the client', async () => {
    const url = `tls://127.0.0.1:${controller.rpcAddresses!.tls!.port}`;
    const tls = await connectApi({ url, who: 'rc-cert', method: 'clientcert', tls: { ca: certs.ca, cert: certs.client.cert, key: certs.client.key } });
    clients.push(tls);
    expect(await tls.call('rc.add', { a: 1, b: 2 }, { timeoutS: 30 })).toEqual({ sum: 3 });
    // A certificate the CA does not vouch for names no one.
    await expect(connectApi({ url, who: 'rc-cert', method: 'clientcert', tls: { ca: certs.ca, cert: certs.rogue.cert, key: certs.rogue.key } })).rejects.toBeInstanceOf(AuthError);
  });

  it('refuses a wrong token, a bad URL and bad arguments with errors that name the problem', async () => {
    await expect(connectApi({ url: `tcp://127.0.0.1:${tcpPort}`, who: 'rc-caller', token: 'wrong' })).rejects.toBeInstanceOf(AuthError);
    await expect(connectApi({ url: 'http://127.0.0.1:1', who: 'rc-caller', token: 'x' })).rejects.toThrow(/^url: /);
    await expect(caller.call('rc.add', [1, 2] as never)).rejects.toThrow(/^inargs: /);
    await expect(caller.call('', {})).rejects.toThrow(/^funcname: /);
    await expect(caller.call('rc.add', {}, { timeoutS: -1 })).rejects.toThrow(/^timeoutS: /);
    await expect(caller.getJobStatus('abc')).rejects.toThrow(/^jobId: /);
    await expect(worker.work('rc.add', () => ({}))).rejects.toThrow(/^actionname: .*already worked/);
    // The server's refusal: the caller may not work anything.
    await expect(caller.work('rc.echo', () => ({}))).rejects.toThrow(/actionname: client rc-caller may not work/);
    await expect(caller.call('other.thing', {}, { timeoutS: 5 })).rejects.toThrow(/create_job other.thing: this client may not call/);
  });

  it('reconnects after the controller restarts on the same port: slot groups and announcements are restored, calls go through', async () => {
    expect(await caller.call('rc.add', { a: 1, b: 1 }, { timeoutS: 30 })).toEqual({ sum: 2 });
    const before = { worker: worker.status().sessions, caller: caller.status().sessions };
    await controller.stop();
    await waitFor(() => !worker.status().connected && !caller.status().connected, { what: 'both clients see the drop' });
    // A call made while the API is down waits for the reconnection and completes.
    const during = caller.call('rc.add', { a: 20, b: 1 }, { timeoutS: 30 });
    controller = createController(controllerOptions(tcpPort));
    await controller.start();
    await waitFor(() => worker.status().sessions > before.worker && caller.status().sessions > before.caller, { what: 'both clients reconnected' });
    expect(await during).toEqual({ sum: 21 });
    expect(await caller.call('rc.add', { a: 3, b: 4 }, { timeoutS: 30 })).toEqual({ sum: 7 });
    // The shared slot group came back too.
    expect(await caller.call('rc.answer', {}, { timeoutS: 30 })).toEqual({ result: 42 });
  });

  it('a call waiting across the restart gets its result through get_job_status with notify', async () => {
    heldGate.current = gate();
    const waiting = caller.call('rc.held', { n: 99 }, { timeoutS: 30 });
    const id = await waitFor(async () => (await ns.store.findJobs({ funcname: 'rc.held', states: ['running'] }))[0]?.id ?? null, { what: 'the held job running' });
    const sessions = caller.status().sessions;
    await controller.stop();
    // The stopping controller declined the task (the worker did nothing wrong); the job runs again on the next one.
    heldGate.current.open();
    controller = createController(controllerOptions(tcpPort));
    await controller.start();
    await waitFor(() => caller.status().sessions > sessions, { what: 'the caller reconnected' });
    expect(await waiting).toEqual({ n: 99 });
    expect((await ns.store.getJob(id))?.state).toBe('completed');
  });
});
