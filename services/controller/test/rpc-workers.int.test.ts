/**
 * Remote workers over JSON-RPC against the real PostgreSQL and RabbitMQ, through real sockets: a
 * scripted worker announces, takes tasks with get_task and answers with task_done, as JobCenter's
 * client does. The scheduler's part (promoting due jobs, taking back expired leases) is played by
 * a loop calling the store's own scheduler statements.
 */
import amqp from 'amqplib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createAmqpBroker, deleteBrokerNamespace, queueName, type AmqpBroker } from '@drover/broker';
import type { JobWithFailures } from '@drover/core';
import { useTestNamespace, waitFor } from '@drover/testing';
import { createController, type Controller } from '../src/index.js';
import { ScriptedWorker, connectTcpClient, type Message, type TaskScript, type TestConnection } from './rpc-client.js';

const ns = useTestNamespace();
let broker: AmqpBroker;
let controller: Controller;
let scheduler: NodeJS.Timeout;
let workerToken = '';
let callerToken = '';
const funcnames = new Set<string>();
const connections: TestConnection[] = [];

/** Short bounds so offers move and filtered jobs come back within a test. */
const OFFER_TIMEOUT_MS = 1_000;
const FILTER_RETRY_MS = 1_500;

beforeAll(async () => {
  broker = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `rpc-workers-${ns.namespace}` });
  workerToken = (await ns.store.clients.add({ who: 'rw-worker', work: ['rw.*'] })).token;
  callerToken = (await ns.store.clients.add({ who: 'rw-caller', call: ['rw.*'] })).token;
  controller = createController({
    store: ns.store,
    clients: ns.store.clients,
    broker,
    http: false,
    relay: { sweepMs: 200 },
    // Pinged often, so that a worker that stops answering is found within a test.
    rpc: { tcp: { port: 0 }, pingIntervalMs: 200, pingTimeoutMs: 500, workers: { offerTimeoutMs: OFFER_TIMEOUT_MS, filterRetryMs: FILTER_RETRY_MS, retryDelayMs: 0, drainMs: 2_000 } },
  });
  await controller.start();
  // The scheduler's part: failed attempts (retried at once here) and declined filtered jobs come due.
  scheduler = setInterval(() => {
    ns.store.promoteDue().catch(() => undefined);
  }, 100);
});

afterAll(async () => {
  clearInterval(scheduler);
  for (const c of connections) c.close();
  await controller.stop();
  await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames });
  await broker.close();
});

async function connect(who = 'rw-worker', token = workerToken, options: { answerPings?: boolean; port?: number } = {}): Promise<TestConnection> {
  const conn = await connectTcpClient(options.port ?? controller.rpcAddresses!.tcp!.port, { answerPings: options.answerPings ?? true });
  connections.push(conn);
  expect((await conn.next()).method).toBe('greetings');
  expect((await conn.call('hello', { who, method: 'password', token })).result).toEqual([true, expect.stringContaining('welcome')]);
  return conn;
}

/** Announces as JobCenter's client does: both slots and slotgroup, the unused one null. */
async function announce(conn: TestConnection, actionname: string, extra: { slots?: number; slotgroup?: string; filter?: object } = {}): Promise<Message> {
  funcnames.add(actionname);
  return conn.call('announce', { workername: 'scripted', actionname, slots: extra.slots ?? null, slotgroup: extra.slotgroup ?? null, ...(extra.filter ? { filter: extra.filter } : {}) });
}

async function worker(actionname: string, script: TaskScript, extra: Parameters<typeof announce>[2] = {}): Promise<ScriptedWorker> {
  const conn = await connect();
  const w = new ScriptedWorker(conn, script);
  expect((await announce(conn, actionname, extra)).result).toEqual([true, 'success']);
  return w;
}

async function enqueue(funcname: string, arg: object, extra: { timeoutMs?: number } = {}): Promise<string> {
  funcnames.add(funcname);
  return (await ns.store.insert({ funcname, arg, ...extra })).id;
}

function finished(id: string): () => Promise<JobWithFailures | null> {
  return async () => {
    const job = await ns.store.getJob(id);
    return job && ['completed', 'failed', 'cancelled'].includes(job.state) ? job : null;
  };
}

/** Consumers on a function's queue; 0 when the queue was never declared (nobody ever consumed it). */
async function consumers(funcname: string): Promise<number> {
  const raw = await amqp.connect(inject('droverServices').amqpUrl);
  raw.on('error', () => undefined);
  try {
    const channel = await raw.createChannel();
    // A missing queue closes the channel with 404: answered here, not raised as an uncaught error.
    channel.on('error', () => undefined);
    return await channel.checkQueue(queueName(ns.namespace, funcname)).then(
      (q) => q.consumerCount,
      (err: { code?: number }) => {
        if (err.code === 404) return 0;
        throw err;
      },
    );
  } finally {
    await raw.close().catch(() => undefined);
  }
}

/** A round trip on the connection: every message sent before it has been handled. */
async function roundTrip(conn: TestConnection): Promise<void> {
  expect((await conn.call('ping')).result).toContain('pong');
}

function expectBadParameter(reply: Message, field: string): void {
  expect(reply.error, JSON.stringify(reply)).toBeDefined();
  expect(Object.keys(reply.error!).sort()).toEqual(['code', 'message']);
  expect(reply.error!.code).toBe(-32001);
  expect(reply.error!.message.startsWith(`${field}:`), reply.error!.message).toBe(true);
}

describe('remote workers', () => {
  it('run the full cycle: announce, task_ready, get_task with all four elements, task_done completes the job with outargs', async () => {
    const w = await worker('rw.sum', ({ inargs }) => {
      const { a, b } = inargs as { a: number; b: number };
      return { sum: a + b };
    });
    const id = await enqueue('rw.sum', { a: 1, b: 2 });
    const job = await waitFor(finished(id), { what: 'rw.sum completed' });
    expect(job.state).toBe('completed');
    expect(job.result).toEqual({ sum: 3 });
    expect(w.offers).toEqual([{ actionname: 'rw.sum', job_id: Number(id) }]);
    const [answer] = w.answers;
    expect(answer).toHaveLength(4);
    expect(answer![0]).toBe(Number(id));
    expect(answer![1]).toMatch(new RegExp(`^${id}\\.[A-Za-z0-9_-]{24}$`));
    expect(answer![2]).toEqual({ a: 1, b: 2 });
    expect(answer![3]).toBeNull();
  });

  it('a slot group of 2 shared by two actions never has more than 2 tasks out at once', async () => {
    const conn = await connect();
    // Each task is held until two are out (or the last ones are running), so a broken budget shows as a third offer.
    let finishedJobs = 0;
    const w: ScriptedWorker = new ScriptedWorker(conn, async () => {
      await waitFor(() => w.out >= 2 || finishedJobs >= 4, { what: 'two tasks out' });
      finishedJobs++;
      return { ok: true };
    });
    expect((await conn.call('create_slotgroup', { name: 'pair', slots: 2 })).result).toBe('');
    expect((await announce(conn, 'rw.g1', { slotgroup: 'pair' })).result).toEqual([true, 'success']);
    expect((await announce(conn, 'rw.g2', { slotgroup: 'pair' })).result).toEqual([true, 'success']);
    const ids = await Promise.all([1, 2, 3].flatMap((n) => [enqueue('rw.g1', { n }), enqueue('rw.g2', { n })]));
    for (const id of ids) expect((await waitFor(finished(id), { what: `job ${id}` })).state).toBe('completed');
    expect(w.mostOut).toBe(2);
    expect(new Set(w.offers.map((o) => o.actionname))).toEqual(new Set(['rw.g1', 'rw.g2']));
  });

  it('takes slot counts as the decimal strings Perl sends for numbers read from text', async () => {
    // JobCenter's Perl client passes slots on as the program has them: from a config file, "3".
    const conn = await connect();
    let finishedJobs = 0;
    const w: ScriptedWorker = new ScriptedWorker(conn, async () => {
      await waitFor(() => w.out >= 3 || finishedJobs >= 3, { what: 'three tasks out' });
      finishedJobs++;
      return { ok: true };
    });
    funcnames.add('rw.str1');
    funcnames.add('rw.str2');
    expect((await conn.call('announce', { workername: 'scripted', actionname: 'rw.str1', slots: '3', slotgroup: null })).result).toEqual([true, 'success']);
    expect((await conn.call('create_slotgroup', { name: 'from-text', slots: '2' })).result).toBe('');
    expect((await announce(conn, 'rw.str2', { slotgroup: 'from-text' })).result).toEqual([true, 'success']);
    const ids = await Promise.all([1, 2, 3, 4].map((n) => enqueue('rw.str1', { n })));
    for (const id of ids) expect((await waitFor(finished(id), { what: `job ${id}` })).state).toBe('completed');
    // Three at once: the count "3" was read as 3, not refused nor taken as the default of 1.
    expect(w.mostOut).toBe(3);
    const two = await enqueue('rw.str2', { n: 5 });
    expect((await waitFor(finished(two), { what: 'the job of the group made with slots "2"' })).state).toBe('completed');
  });

  it('a stale cookie changes nothing: a repeated task_done, another outcome on a used cookie, a guessed cookie', async () => {
    let cookie = '';
    const w = await worker('rw.stale', (task) => {
      cookie = task.cookie;
      return { n: 1 };
    });
    const id = await enqueue('rw.stale', {});
    expect((await waitFor(finished(id))).result).toEqual({ n: 1 });
    w.conn.notify('task_done', { cookie, outargs: { n: 2 } });
    w.conn.notify('task_done', { cookie, outargs: { error: { msg: 'late', class: 'fatal' } } });
    w.conn.notify('task_done', { cookie: `${id}.AAAAAAAAAAAAAAAAAAAAAAAA`, outargs: { n: 3 } });
    await roundTrip(w.conn);
    const job = await ns.store.getJob(id);
    expect(job).toMatchObject({ state: 'completed', result: { n: 1 }, failures: 0 });
  });

  it("a task_done after the job's own timeout ended the attempt changes nothing", async () => {
    let cookie = '';
    const w = await worker('rw.slow', (task) => {
      // The first attempt's cookie: later attempts (the job is retried) get their own.
      cookie ||= task.cookie;
      return null; // holds the task: never answers
    });
    const id = await enqueue('rw.slow', {}, { timeoutMs: 500 });
    const failed = await waitFor(async () => {
      const job = await ns.store.getJob(id);
      return job && job.failures === 1 ? job : null;
    }, { what: 'the attempt to time out' });
    expect(failed.failureLog[0]!.error).toMatch(/timed out/);
    w.conn.notify('task_done', { cookie, outargs: { late: true } });
    await roundTrip(w.conn);
    const job = await ns.store.getJob(id);
    expect(job!.state).not.toBe('completed');
    expect(job!.result).toBeNull();
    await ns.store.cancel(id);
  });

  it('an offer not taken in time moves to another worker without counting a failure; get_task on it then answers []', async () => {
    const conn = await connect();
    const offers: { actionname: string; job_id: unknown }[] = [];
    conn.onNotification('task_ready', (p) => offers.push(p as { actionname: string; job_id: unknown }));
    expect((await announce(conn, 'rw.late')).result).toEqual([true, 'success']);
    const id = await enqueue('rw.late', { x: 1 });
    await waitFor(() => offers.length === 1, { what: 'the offer' });
    // Withdrawn with the offer out: nothing more comes here, and the offer runs out on its own.
    expect((await conn.call('withdraw', { actionname: 'rw.late' })).result).toBe(true);
    const other = await worker('rw.late', ({ inargs }) => ({ took: inargs as object }));
    const job = await waitFor(finished(id), { what: 'the job to move to the other worker' });
    expect(job).toMatchObject({ state: 'completed', failures: 0, result: { took: { x: 1 } } });
    expect(job.attempts).toBe(2);
    expect(other.offers).toEqual([{ actionname: 'rw.late', job_id: Number(id) }]);
    expect((await conn.call('get_task', offers[0])).result).toEqual([]);
    expect(offers).toHaveLength(1);
  });

  it('a second get_task for a task already taken answers []', async () => {
    const conn = await connect();
    const offers: { actionname: string; job_id: unknown }[] = [];
    conn.onNotification('task_ready', (p) => offers.push(p as { actionname: string; job_id: unknown }));
    expect((await announce(conn, 'rw.twice')).result).toEqual([true, 'success']);
    const id = await enqueue('rw.twice', { y: 2 });
    await waitFor(() => offers.length === 1, { what: 'the offer' });
    const first = await conn.call('get_task', offers[0]);
    expect(first.result).toEqual([Number(id), expect.any(String), { y: 2 }, null]);
    expect((await conn.call('get_task', { actionname: 'rw.twice', job_id: String(id) })).result).toEqual([]);
    conn.notify('task_done', { cookie: (first.result as unknown[])[1], outargs: { done: true } });
    expect(await waitFor(finished(id))).toMatchObject({ state: 'completed', failures: 0, result: { done: true } });
  });

  it('a worker that disconnects mid-task gives it back at once as a failed attempt, and another worker does it once', async () => {
    const a = await worker('rw.drop', () => null);
    const id = await enqueue('rw.drop', { k: 'v' });
    await waitFor(() => a.answers.length === 1, { what: 'worker A to take the task' });
    const b = await worker('rw.drop', () => ({ by: 'b' }));
    a.conn.close();
    const job = await waitFor(finished(id), { what: 'the job to be done by worker B' });
    expect(job).toMatchObject({ state: 'completed', failures: 1, result: { by: 'b' } });
    expect(job.failureLog.map((f) => f.error)).toEqual(['worker disconnected']);
    expect(b.done).toEqual([{ by: 'b' }]);
    expect(a.done).toEqual([]);
  });

  it('a worker that stops answering pings is dropped, and its task given back at once as a failed attempt', async () => {
    const conn = await connect('rw-worker', workerToken, { answerPings: false });
    const mute = new ScriptedWorker(conn, () => null);
    expect((await announce(conn, 'rw.mute')).result).toEqual([true, 'success']);
    const id = await enqueue('rw.mute', {});
    await waitFor(() => mute.answers.length === 1, { what: 'the mute worker to take the task' });
    const b = await worker('rw.mute', () => ({ by: 'b' }));
    await conn.closed;
    const job = await waitFor(finished(id), { what: 'the job to be done by worker B' });
    expect(job).toMatchObject({ state: 'completed', failures: 1, result: { by: 'b' } });
    expect(job.failureLog.map((f) => f.error)).toEqual(['worker disconnected']);
    expect(b.done).toEqual([{ by: 'b' }]);
  });

  it('a controller that stops declines the tasks its remote workers hold (no failure counted) before it returns', async () => {
    const other = createController({ store: ns.store, clients: ns.store.clients, broker, http: false, rpc: { tcp: { port: 0 } } });
    await other.start();
    const conn = await connect('rw-worker', workerToken, { port: other.rpcAddresses!.tcp!.port });
    const holder = new ScriptedWorker(conn, () => null);
    expect((await announce(conn, 'rw.stop')).result).toEqual([true, 'success']);
    const id = await enqueue('rw.stop', {});
    await waitFor(() => holder.answers.length === 1, { what: 'the worker to take the task' });
    await other.stop();
    const job = await ns.store.getJob(id);
    expect(job).toMatchObject({ attempts: 1, failures: 0 });
    expect(job!.state).not.toBe('running');
    expect(await consumers('rw.stop')).toBe(0);
    await ns.store.cancel(id);
  });

  it('an error in outargs: class soft (or any class but fatal) is a failed attempt retried; a string, no class or fatal fails the job for good', async () => {
    const seen = new Map<string, number>();
    // How JobCenter's Perl client reports each: `die` in a handler sends the message as a string.
    const errors: Record<string, unknown> = {
      soft: { msg: 'try later', class: 'soft' },
      own: { msg: 'busy', class: 'throttled' },
      died: 'perl died at worker.pl line 7.\n',
      classless: { msg: 'no class' },
      fatal: { msg: 'bad input', class: 'fatal' },
    };
    await worker('rw.err', ({ inargs }) => {
      const { mode } = inargs as { mode: string };
      const n = (seen.get(mode) ?? 0) + 1;
      seen.set(mode, n);
      return n === 1 ? { error: errors[mode] } : { mode, n };
    });
    const modes = Object.keys(errors);
    const ids = await Promise.all(modes.map((mode) => enqueue('rw.err', { mode })));
    const jobs = Object.fromEntries(await Promise.all(modes.map(async (mode, i) => [mode, await waitFor(finished(ids[i]!))] as const)));
    expect(jobs.soft).toMatchObject({ state: 'completed', failures: 1, result: { mode: 'soft', n: 2 } });
    expect(jobs.own).toMatchObject({ state: 'completed', failures: 1, result: { mode: 'own', n: 2 } });
    for (const [mode, text] of [['died', 'perl died at worker.pl line 7.\n'], ['classless', 'no class'], ['fatal', 'bad input']] as const) {
      expect(jobs[mode], mode).toMatchObject({ state: 'failed', attempts: 1, failures: 1 });
      expect(jobs[mode]!.failureLog.map((f) => f.error)).toEqual([text]);
      expect(seen.get(mode)).toBe(1);
    }
  });

  it('a filtered worker gets only matching jobs; a job no filter matches waits, not spinning, until a matching worker announces', async () => {
    const started = Date.now();
    const fa = await worker('rw.f', ({ inargs }) => ({ got: inargs as object }), { filter: { kind: 'a' } });
    const a = await enqueue('rw.f', { kind: 'a', n: 1 });
    const b = await enqueue('rw.f', { kind: 'b', n: 2 });
    expect(await waitFor(finished(a))).toMatchObject({ state: 'completed', result: { got: { kind: 'a', n: 1 } } });
    // Job b was claimed, found unmatched and declined until later: it waits, its failures untouched.
    const waiting = await waitFor(async () => {
      const job = await ns.store.getJob(b);
      return job && job.attempts >= 1 && job.state !== 'running' ? job : null;
    });
    expect(waiting.failures).toBe(0);
    const fb = await worker('rw.f', ({ inargs }) => ({ got: inargs as object }), { filter: { kind: 'b' } });
    const done = await waitFor(finished(b), { timeoutMs: 20_000, what: 'the kind-b job to reach its worker' });
    expect(done).toMatchObject({ state: 'completed', failures: 0, result: { got: { kind: 'b', n: 2 } } });
    // Every worker was offered only what its filter matches.
    expect(fa.offers.map((o) => o.job_id)).toEqual([Number(a)]);
    expect(fb.offers.map((o) => o.job_id)).toEqual([Number(b)]);
    // Not spinning: each unmatched look declines the job for FILTER_RETRY_MS, so its claims are
    // bounded by the time it waited (a hot loop would count hundreds).
    const bound = Math.ceil((Date.now() - started) / FILTER_RETRY_MS) + 2;
    expect(done.attempts).toBeLessThanOrEqual(bound);
  });

  it('a job offered to a worker whose filter it does not match goes at once to a free, matching worker of the same controller', async () => {
    // A filter delay far longer than the test: any job that waited it out would fail the test.
    const patient = createController({
      store: ns.store,
      clients: ns.store.clients,
      broker,
      http: false,
      relay: { sweepMs: 200 },
      rpc: { tcp: { port: 0 }, workers: { offerTimeoutMs: OFFER_TIMEOUT_MS, filterRetryMs: 600_000, retryDelayMs: 0, drainMs: 2_000 } },
    });
    await patient.start();
    try {
      const port = patient.rpcAddresses!.tcp!.port;
      const kinds = ['a', 'b'] as const;
      const workers = await Promise.all(
        kinds.map(async (kind) => {
          const conn = await connect('rw-worker', workerToken, { port });
          const w = new ScriptedWorker(conn, ({ inargs }) => ({ got: inargs as object }));
          expect((await announce(conn, 'rw.pair', { slots: 4, filter: { kind } })).result).toEqual([true, 'success']);
          return w;
        }),
      );
      const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => enqueue('rw.pair', { kind: kinds[n % 2], n })));
      const done = await Promise.all(ids.map((id) => waitFor(finished(id), { timeoutMs: 30_000, what: `job ${id} to finish` })));
      for (const job of done) expect(job).toMatchObject({ state: 'completed', failures: 0, result: { got: job.arg as object } });
      // Each worker ran only its own kind.
      kinds.forEach((kind, k) => {
        const offered = new Set(workers[k]!.offers.map((o) => String(o.job_id)));
        expect([...offered].sort()).toEqual(done.filter((j) => (j.arg as { kind: string }).kind === kind).map((j) => j.id).sort());
      });
    } finally {
      await patient.stop();
    }
  });

  it('announce is refused without the work scope, and starts no consumer', async () => {
    const conn = await connect('rw-caller', callerToken);
    const reply = await announce(conn, 'rw.forbidden');
    expectBadParameter(reply, 'actionname');
    expect(reply.error!.message).toMatch(/may not work/);
    const id = await enqueue('rw.forbidden', {});
    await waitFor(async () => (await ns.store.getJob(id))?.state === 'dispatched', { what: 'the job to reach the queue' });
    expect(await consumers('rw.forbidden')).toBe(0);
  });

  it('bad parameters answer -32001 naming the field, and change nothing', async () => {
    const conn = await connect();
    const base = { workername: 'w', actionname: 'rw.bad', slots: null, slotgroup: null };
    funcnames.add('rw.bad');
    expect((await conn.call('create_slotgroup', { name: 'mine', slots: 1 })).result).toBe('');
    const cases: [string, Record<string, unknown>, string][] = [
      ['announce', { ...base, workername: undefined }, 'workername'],
      ['announce', { ...base, workername: 7 }, 'workername'],
      ['announce', { ...base, actionname: 'no spaces' }, 'actionname'],
      ['announce', { ...base, slots: 0 }, 'slots'],
      ['announce', { ...base, slots: 1.5 }, 'slots'],
      ['announce', { ...base, slots: 'two' }, 'slots'],
      ['announce', { ...base, slots: '1.5' }, 'slots'],
      ['announce', { ...base, slots: 2, slotgroup: 'mine' }, 'slotgroup'],
      ['announce', { ...base, slotgroup: 'nope' }, 'slotgroup'],
      ['announce', { ...base, slotgroup: '_rw.sum' }, 'slotgroup'],
      ['announce', { ...base, filter: [1] }, 'filter'],
      ['announce', { ...base, filter: 'kind' }, 'filter'],
      ['create_slotgroup', { name: '_hidden', slots: 1 }, 'name'],
      ['create_slotgroup', { name: 'mine', slots: 1 }, 'name'],
      ['create_slotgroup', { name: 'other', slots: 0 }, 'slots'],
      ['create_slotgroup', { name: 'other', slots: '0' }, 'slots'],
      ['create_slotgroup', { name: 'other' }, 'slots'],
      ['create_slotgroup', { slots: 1 }, 'name'],
      ['withdraw', { actionname: 'rw.bad' }, 'actionname'],
      ['get_task', { actionname: 'rw.bad', job_id: 'abc' }, 'job_id'],
      ['get_task', { job_id: 1 }, 'actionname'],
    ];
    for (const [method, params, field] of cases) expectBadParameter(await conn.call(method, params), field);
    // Nothing was made: the group still takes an action, and no consumer runs for rw.bad.
    expect((await conn.call('get_task', { actionname: 'rw.bad', job_id: 1 })).result).toEqual([]);
    expect((await announce(conn, 'rw.bad2', { slotgroup: 'mine' })).result).toEqual([true, 'success']);
    expect(await consumers('rw.bad')).toBe(0);
    // A second announce of the same action on one connection is refused.
    expectBadParameter(await announce(conn, 'rw.bad2', { slots: 1 }), 'actionname');
  });

  it('generated bad announce and create_slotgroup parameters each answer -32001 naming the bad field, and make nothing', async () => {
    const conn = await connect();
    funcnames.add('rw.prop');
    const notText = fc.oneof(fc.constant(''), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.string({ minLength: 201, maxLength: 210 }));
    // Decimal strings are numbers (Perl sends them so): only out-of-range ones are bad.
    const badSlots = fc.oneof(
      fc.integer({ max: 0 }),
      fc.integer({ min: 10_001 }),
      fc.double({ noInteger: true }),
      fc.string().filter((t) => !/^\d+$/.test(t)),
      fc.constantFrom('0', '10001', '1.5', ' 2', '2 ', '-1'),
      fc.boolean(),
      fc.constant([1]),
    );
    const badAction = fc.oneof(fc.constant(''), fc.integer(), fc.constant(null), fc.string({ maxLength: 20 }).map((t) => `${t} !`));
    const badFilter = fc.oneof(fc.array(fc.integer(), { maxLength: 2 }), fc.string(), fc.integer(), fc.boolean());
    const good = { workername: 'w', actionname: 'rw.prop', slots: null, slotgroup: null };
    const badCall = fc.oneof(
      notText.map((v) => ['announce', { ...good, workername: v }, 'workername'] as const),
      badAction.map((v) => ['announce', { ...good, actionname: v }, 'actionname'] as const),
      badSlots.map((v) => ['announce', { ...good, slots: v }, 'slots'] as const),
      fc.integer({ min: 1, max: 5 }).map((n) => ['announce', { ...good, slots: n, slotgroup: 'g' }, 'slotgroup'] as const),
      fc.string({ minLength: 1, maxLength: 10 }).map((g) => ['announce', { ...good, slotgroup: `missing-${g}` }, 'slotgroup'] as const),
      badFilter.map((v) => ['announce', { ...good, filter: v }, 'filter'] as const),
      notText.map((v) => ['create_slotgroup', { name: v, slots: 1 }, 'name'] as const),
      fc.string({ maxLength: 10 }).map((t) => ['create_slotgroup', { name: `_${t}`, slots: 1 }, 'name'] as const),
      badSlots.map((v) => ['create_slotgroup', { name: 'fresh', slots: v }, 'slots'] as const),
    );
    await fc.assert(
      fc.asyncProperty(badCall, async ([method, params, field]) => {
        expectBadParameter(await conn.call(method, params), field);
      }),
      { numRuns: 300 },
    );
    // Nothing was made: no consumer on rw.prop, no group "fresh", and both can still be made.
    expect(await consumers('rw.prop')).toBe(0);
    expect((await conn.call('create_slotgroup', { name: 'fresh', slots: 1 })).result).toBe('');
    expect((await announce(conn, 'rw.prop', { slotgroup: 'fresh' })).result).toEqual([true, 'success']);
  });

  it('withdraw stops the consumer; a closed connection leaves no consumer behind', async () => {
    const conn = await connect();
    expect((await announce(conn, 'rw.w', { slots: 3 })).result).toEqual([true, 'success']);
    expect(await consumers('rw.w')).toBe(1);
    expect((await conn.call('withdraw', { actionname: 'rw.w' })).result).toBe(true);
    expect(await consumers('rw.w')).toBe(0);
    expect((await announce(conn, 'rw.w', { slots: 1 })).result).toEqual([true, 'success']);
    expect(await consumers('rw.w')).toBe(1);
    for (const c of connections) c.close();
    for (const f of funcnames) await waitFor(async () => (await consumers(f)) === 0, { what: `no consumer on ${f}` });
  });
});
