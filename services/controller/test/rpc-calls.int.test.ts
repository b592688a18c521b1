/**
 * The caller's JSON-RPC methods against PostgreSQL and RabbitMQ, through real sockets, with a real
 * worker: create_job → its result → job_done (never the other way round), the timeout's job_done,
 * get_job_status (finished, unfinished, unknown, notify, another client's job), find_jobs
 * (containment, scope, bad filters), bad input that writes nothing, 100 concurrent calls on 4
 * connections (the fan-out of one listener), and the re-check after the listener reconnects.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAmqpBroker } from '@drover/broker';
import { PermanentFailure, type Broker } from '@drover/core';
import { createPgStore, type PgJobStore } from '@drover/store';
import { useTestNamespace } from '@drover/testing';
import { createWorker, type Worker } from '@drover/worker';
import { createController, type Controller } from '../src/index.js';
import { connectTcpClient, type TestConnection } from './rpc-client.js';

const ns = useTestNamespace();
/** The controller's own store, under a name of its own, so the test can cut exactly its sessions. */
const APP_NAME = `rpc-calls-${process.pid}`;
let store: PgJobStore;
let controller: Controller;
let worker: Worker;
const brokers: Broker[] = [];
const tokens: Record<string, string> = {};
const open: TestConnection[] = [];

beforeAll(async () => {
  store = createPgStore({ connectionString: ns.databaseUrl, namespace: ns.namespace, applicationName: APP_NAME });
  tokens.caller = (await store.clients.add({ who: 'caller', call: ['calc.*'] })).token;
  tokens.stranger = (await store.clients.add({ who: 'stranger', call: ['other.*'] })).token;
  tokens.colleague = (await store.clients.add({ who: 'colleague', call: ['calc.*'] })).token;
  tokens.admin = (await store.clients.add({ who: 'boss', admin: true })).token;
  const broker = async (name: string): Promise<Broker> => {
    const made = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `rpc-calls-${name}` });
    brokers.push(made);
    return made;
  };
  controller = createController({ store, clients: store.clients, broker: await broker('controller'), http: false, relay: { sweepMs: 200 }, rpc: { tcp: { port: 0 } } });
  await controller.start();
  worker = createWorker({
    store: ns.store,
    broker: await broker('worker'),
    functions: {
      'calc.add': { handler: async (job) => ({ sum: (job.arg as { a: number; b: number }).a + (job.arg as { a: number; b: number }).b }), slots: 16 },
      'calc.answer': async () => 42,
      'calc.nothing': async () => undefined,
      'calc.fail': async () => {
        throw new PermanentFailure('calc.fail: division by zero');
      },
    },
  });
  await worker.start();
});

afterAll(async () => {
  for (const conn of open) conn.close();
  await worker?.stop();
  await controller?.stop();
  for (const b of brokers) await b.close();
  await store?.close();
});

/** The clients of these tests, by the key of their token. */
const WHO = { caller: 'caller', stranger: 'stranger', colleague: 'colleague', admin: 'boss' } as const;

/** A connection that said hello as one of the test's clients. */
async function session(key: keyof typeof WHO): Promise<TestConnection> {
  const conn = await connectTcpClient(controller.rpcAddresses!.tcp!.port, { answerPings: true });
  open.push(conn);
  expect((await conn.next()).method).toBe('greetings');
  const hello = await conn.call('hello', { who: WHO[key], method: 'password', token: tokens[key] });
  expect((hello.result as unknown[])[0]).toBe(true);
  return conn;
}

/** The next job_done notification on `conn`. */
async function jobDone(conn: TestConnection, timeoutMs = 15_000): Promise<{ job_id: unknown; outargs: unknown }> {
  for (;;) {
    const m = await conn.next(timeoutMs);
    if (m.method === 'job_done') return m.params as { job_id: unknown; outargs: unknown };
  }
}

const jobCount = async (): Promise<number> => Number((await ns.pool.query<{ n: string }>('SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM finished_jobs) AS n')).rows[0]!.n);

describe('create_job and job_done', () => {
  it('answers the job id, then sends job_done with the outargs, in that order on the wire', async () => {
    const conn = await session('caller');
    const created = await conn.call('create_job', { wfname: 'calc.add', inargs: { a: 2, b: 3 }, vtag: null, timeout: 30 });
    const [jobId, error] = created.result as [number, null];
    expect(typeof jobId).toBe('number');
    expect(error).toBeNull();
    expect(await jobDone(conn)).toEqual({ job_id: jobId, outargs: { sum: 5 } });
    const replyAt = conn.texts.findIndex((t) => t.includes(`"id":"${created.id as string}"`));
    const doneAt = conn.texts.findIndex((t) => t.includes('"job_done"'));
    expect(replyAt).toBeGreaterThanOrEqual(0);
    expect(doneAt).toBeGreaterThan(replyAt);
  });

  it('wraps a result that is not an object, and reports failures and cancellations as JobCenter errors', async () => {
    const conn = await session('caller');
    const answer = ((await conn.call('create_job', { wfname: 'calc.answer', inargs: {} })).result as [number])[0];
    expect(await jobDone(conn)).toEqual({ job_id: answer, outargs: { result: 42 } });
    const nothing = ((await conn.call('create_job', { wfname: 'calc.nothing', inargs: {} })).result as [number])[0];
    expect(await jobDone(conn)).toEqual({ job_id: nothing, outargs: {} });
    const failing = ((await conn.call('create_job', { wfname: 'calc.fail', inargs: {} })).result as [number])[0];
    // The failure's message as the worker logged it, without its stack trace (no paths leak to callers).
    expect(await jobDone(conn)).toEqual({ job_id: failing, outargs: { error: 'PermanentFailure: calc.fail: division by zero' } });
    // No worker serves calc.idle: the job waits until it is cancelled.
    const idle = ((await conn.call('create_job', { wfname: 'calc.idle', inargs: {} })).result as [number])[0];
    expect(await store.cancel(String(idle))).toBe(true);
    expect(await jobDone(conn)).toEqual({ job_id: idle, outargs: { error: 'cancelled' } });
  });

  it('sends job_done {"error":"timeout"} when the timeout passes first, and the job goes on', async () => {
    const conn = await session('caller');
    const jobId = ((await conn.call('create_job', { wfname: 'calc.idle', inargs: { slow: true }, vtag: null, timeout: 0.3 })).result as [number])[0];
    expect(await jobDone(conn)).toEqual({ job_id: jobId, outargs: { error: 'timeout' } });
    expect(['ready', 'dispatched']).toContain((await store.getJob(String(jobId)))!.state);
    // Watching stopped: the job's end later sends nothing more on this connection. Announcements
    // are handled in commit order, so once a later job's job_done is here, the cancel's was heard.
    await store.cancel(String(jobId));
    const later = ((await conn.call('create_job', { wfname: 'calc.add', inargs: { a: 1, b: 2 } })).result as [number])[0];
    expect(await jobDone(conn)).toEqual({ job_id: later, outargs: { sum: 3 } });
    expect(conn.texts.filter((t) => t.includes('"job_done"'))).toHaveLength(2);
  });

  it('takes the timeout as the decimal string Perl sends for a number read from text', async () => {
    // JobCenter's Perl client passes timeout on as the program has it: from @ARGV or a config file, "0.3".
    const conn = await session('caller');
    const jobId = ((await conn.call('create_job', { wfname: 'calc.idle', inargs: { text: true }, vtag: null, timeout: '0.3' })).result as [number])[0];
    expect(typeof jobId).toBe('number');
    expect(await jobDone(conn)).toEqual({ job_id: jobId, outargs: { error: 'timeout' } });
    await store.cancel(String(jobId));
  });

  it('refuses bad input with an error naming the field, and writes nothing', async () => {
    const conn = await session('caller');
    const before = await jobCount();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ wfname: 'calc.add', inargs: [1, 2] }, /^inargs: must be an object/],
      [{ wfname: 'calc.add' }, /^inargs: must be an object/],
      [{ wfname: 'calc add', inargs: {} }, /^wfname: /],
      [{ inargs: {} }, /^wfname: /],
      [{ wfname: 'calc.add', inargs: {}, timeout: -1 }, /^timeout: /],
      [{ wfname: 'calc.add', inargs: {}, timeout: 'ten' }, /^timeout: /],
      [{ wfname: 'calc.add', inargs: {}, timeout: '-1' }, /^timeout: /],
      [{ wfname: 'calc.add', inargs: {}, timeout: '1e3' }, /^timeout: /],
      [{ wfname: 'calc.add', inargs: {}, vtag: 3 }, /^vtag: /],
      [{ wfname: 'calc.add', inargs: {}, vtag: 'x'.repeat(201) }, /^vtag: /],
      [{ wfname: 'calc.add', inargs: {}, clenv: 'x' }, /^clenv: /],
      [{ wfname: 'calc.add', inargs: { text: 'nul\u0000byte' } }, /^inargs\.text: /],
    ];
    for (const [params, message] of cases) {
      const answer = await conn.call('create_job', params);
      expect(answer.error?.code, JSON.stringify(params)).toBe(-32001);
      expect(answer.error?.message).toMatch(message);
    }
    // A function outside the client's call scope: refused in-band, as JobCenter answers create_job.
    const refused = await conn.call('create_job', { wfname: 'other.thing', inargs: {} });
    expect(refused.result).toEqual([null, 'this client may not call other.thing (no call scope matches it)']);
    expect(await jobCount()).toBe(before);
  });

  it('records a vtag with the job it creates, for the workflow engine to pick the version by', async () => {
    const conn = await session('caller');
    const tagged = ((await conn.call('create_job', { wfname: 'calc.add', inargs: { a: 1, b: 2 }, vtag: 'beta' })).result as [number])[0];
    const untagged = ((await conn.call('create_job', { wfname: 'calc.add', inargs: { a: 1, b: 2 }, vtag: '' })).result as [number])[0];
    const { rows } = await ns.pool.query<{ job_id: string; tag: string }>('SELECT job_id::text, tag FROM workflow_job_tags WHERE job_id = ANY($1::bigint[])', [[tagged, untagged]]);
    expect(rows).toEqual([{ job_id: String(tagged), tag: 'beta' }]);
  });

  it('names the field of any malformed create_job, and writes nothing (property)', async () => {
    const conn = await session('caller');
    const before = await jobCount();
    const notObject = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.anything()));
    const badCase = fc.oneof(
      fc.record({ field: fc.constant('inargs'), params: fc.record({ wfname: fc.constant('calc.add'), inargs: notObject }) }),
      fc.record({ field: fc.constant('wfname'), params: fc.record({ wfname: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.anything()), fc.string().filter((w) => !/^[A-Za-z0-9_.:-]{1,200}$/.test(w))), inargs: fc.object() }) }),
      fc.record({
        field: fc.constant('timeout'),
        // No infinities: JSON sends them as null, which is "no timeout", a valid value.
        params: fc.record({ wfname: fc.constant('calc.add'), inargs: fc.constant({}), timeout: fc.oneof(fc.string().filter((t) => !/^\d+(\.\d+)?$/.test(t)), fc.boolean(), fc.array(fc.integer()), fc.double({ max: -0.001, noNaN: true, noDefaultInfinity: true }), fc.double({ min: 3e6, noNaN: true, noDefaultInfinity: true })) }),
      }),
      fc.record({
        field: fc.constant('vtag'),
        params: fc.record({ wfname: fc.constant('calc.add'), inargs: fc.constant({}), vtag: fc.oneof(fc.integer(), fc.boolean(), fc.object(), fc.string({ minLength: 201, maxLength: 240 })) }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(badCase, async ({ field, params }) => {
        const answer = await conn.call('create_job', params);
        expect(answer.error?.code).toBe(-32001);
        expect(answer.error?.message.startsWith(`${field}: `)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(await jobCount()).toBe(before);
  });

  it('delivers every job_done of 100 concurrent calls on 4 connections', async () => {
    const conns = await Promise.all([0, 1, 2, 3].map(() => session('caller')));
    type Done = { job_id: number; outargs: unknown };
    const byId = (x: Done, y: Done): number => x.job_id - y.job_id;
    const perConnection = await Promise.all(
      conns.map(async (conn, c) => {
        // All 25 requests go out at once; answers and job_done notifications interleave on the wire.
        for (let i = 0; i < 25; i++) conn.send({ jsonrpc: '2.0', id: `conc-${c}-${i}`, method: 'create_job', params: { wfname: 'calc.add', inargs: { a: c, b: i }, timeout: 60 } });
        const expected: Done[] = [];
        const received: Done[] = [];
        while (expected.length < 25 || received.length < 25) {
          const m = await conn.next(30_000);
          if (m.method === 'job_done') received.push(m.params as Done);
          else if (typeof m.id === 'string' && m.id.startsWith(`conc-${c}-`)) {
            const i = Number(m.id.split('-')[2]);
            expected.push({ job_id: (m.result as [number])[0], outargs: { sum: c + i } });
          }
        }
        return { expected: expected.sort(byId), received: received.sort(byId) };
      }),
    );
    for (const { expected, received } of perConnection) expect(received).toEqual(expected);
    expect(new Set(perConnection.flatMap((p) => p.expected.map((d) => d.job_id))).size).toBe(100);
  });
});

describe('get_job_status', () => {
  it('answers finished, unfinished and unknown jobs, takes string ids, and sends job_done with notify', async () => {
    const conn = await session('caller');
    const done = ((await conn.call('create_job', { wfname: 'calc.add', inargs: { a: 1, b: 1 } })).result as [number])[0];
    await jobDone(conn);
    expect((await conn.call('get_job_status', { job_id: done, notify: false })).result).toEqual([done, { sum: 2 }]);
    expect((await conn.call('get_job_status', { job_id: String(done), notify: false })).result).toEqual([done, { sum: 2 }]);
    expect((await conn.call('get_job_status', { job_id: 987654321, notify: false })).result).toEqual([null, { error: 'no job 987654321' }]);

    const waiting = await store.insertFor('caller', { funcname: 'calc.idle', arg: {} });
    expect((await conn.call('get_job_status', { job_id: waiting.id, notify: false })).result).toEqual([null, null]);
    const watcher = await session('caller');
    expect((await watcher.call('get_job_status', { job_id: waiting.id, notify: true })).result).toEqual([null, null]);
    await store.cancel(waiting.id);
    expect(await jobDone(watcher)).toEqual({ job_id: Number(waiting.id), outargs: { error: 'cancelled' } });
  });

  it("answers another client's job as one that does not exist, even to a client that may call its function; an admin reads any", async () => {
    const conn = await session('caller');
    const jobId = ((await conn.call('create_job', { wfname: 'calc.add', inargs: { a: 5, b: 5 } })).result as [number])[0];
    await jobDone(conn);
    const stranger = await session('stranger');
    expect((await stranger.call('get_job_status', { job_id: jobId })).result).toEqual([null, { error: `no job ${jobId}` }]);
    const colleague = await session('colleague');
    expect((await colleague.call('get_job_status', { job_id: jobId, notify: true })).result).toEqual([null, { error: `no job ${jobId}` }]);
    const anonymous = await store.insert({ funcname: 'calc.idle', arg: {} });
    expect((await colleague.call('get_job_status', { job_id: anonymous.id })).result).toEqual([null, { error: `no job ${anonymous.id}` }]);
    const admin = await session('admin');
    expect((await admin.call('get_job_status', { job_id: jobId })).result).toEqual([jobId, { sum: 10 }]);
  });

  it('refuses a bad job_id or notify naming it', async () => {
    const conn = await session('caller');
    for (const params of [{ job_id: 'abc' }, { job_id: -3 }, { job_id: 1.5 }, {}]) {
      const answer = await conn.call('get_job_status', params);
      expect(answer.error).toEqual({ code: -32001, message: expect.stringMatching(/^job_id: /) as unknown });
    }
    expect((await conn.call('get_job_status', { job_id: 1, notify: 'yes' })).error?.message).toMatch(/^notify: /);
  });
});

describe('find_jobs', () => {
  it("finds live and finished jobs whose inargs contain the filter, the client's own (every one for an admin)", async () => {
    const conn = await session('caller');
    const finished = ((await conn.call('create_job', { wfname: 'calc.add', inargs: { a: 7, b: 0, order: { customer: 'c-77' } } })).result as [number])[0];
    await jobDone(conn);
    const live = ((await conn.call('create_job', { wfname: 'calc.idle', inargs: { order: { customer: 'c-77', rush: true } } })).result as [number])[0];
    await store.insertFor('stranger', { funcname: 'other.thing', arg: { order: { customer: 'c-77' } } });
    await store.insert({ funcname: 'calc.idle', arg: { order: { customer: 'c-78' } } });
    // Another client's job of a function the caller may call: found by the admin only.
    await store.insertFor('colleague', { funcname: 'calc.idle', arg: { order: { customer: 'c-77' } } });

    // The Perl client sends the filter as JSON text; an object is taken too.
    expect((await conn.call('find_jobs', { filter: '{"order":{"customer":"c-77"}}' })).result).toEqual([live, finished]);
    expect((await conn.call('find_jobs', { filter: { order: { customer: 'c-77', rush: true } } })).result).toEqual([live]);
    const admin = await session('admin');
    expect((await admin.call('find_jobs', { filter: { order: { customer: 'c-77' } } })).result).toHaveLength(4);
    const stranger = await session('stranger');
    expect((await stranger.call('find_jobs', { filter: { order: { customer: 'c-77' } } })).result).toHaveLength(1);
  });

  it('answers an empty or unusable filter in-band', async () => {
    const conn = await session('caller');
    const answers = await Promise.all([{ filter: '{}' }, { filter: {} }, { filter: 'not json' }, { filter: '[1]' }, {}].map((p) => conn.call('find_jobs', p)));
    for (const answer of answers) {
      expect(answer.result).toEqual([null, expect.stringMatching(/^filter: /) as unknown]);
    }
  });
});

describe('the completion listener', () => {
  it('re-checks awaited jobs after it reconnects, so a lost announcement leaves no caller waiting', async () => {
    const conn = await session('caller');
    const jobId = ((await conn.call('create_job', { wfname: 'calc.idle', inargs: {} })).result as [number])[0];
    // Finish the job with its announcement lost: take the mark first, so the trigger stays silent.
    await ns.pool.query('DELETE FROM awaited_jobs WHERE id = $1', [jobId]);
    await store.cancel(String(jobId));
    // Cut the controller's sessions (its listener among them): it reconnects and looks once.
    const cut = await ns.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [APP_NAME]);
    expect(cut.rowCount).toBeGreaterThan(0);
    expect(await jobDone(conn)).toEqual({ job_id: jobId, outargs: { error: 'cancelled' } });
  });
});
