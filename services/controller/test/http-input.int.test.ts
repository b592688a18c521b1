import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { silentLogger, type JobStore } from '@drover/core';
import { useTestNamespace, waitFor } from '@drover/testing';
import { createHttpApi } from '../src/index.js';
import { injectJson, type Answer } from './http-inject.js';

const ns = useTestNamespace();
let app: FastifyInstance;
/** Every request but /health carries a token: these tests are about input, so an admin's. */
let token = '';

beforeAll(async () => {
  token = (await ns.store.clients.add({ who: 'input-admin', admin: true })).token;
  app = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

/** Sends a raw JSON text, so a test can say exactly what is on the wire (lone surrogates, `__proto__`). */
const send = (method: 'GET' | 'POST', url: string, payload?: string, contentType?: string): Promise<Answer> =>
  injectJson(app, method, url, { payload, token, contentType });

const jobCount = async (): Promise<number> => (await ns.store.counts()).reduce((n, c) => n + c.count, 0);

describe('HTTP API: what PostgreSQL would refuse is refused first', () => {
  it('refuses a batch whose uniqkeys hold lone surrogates, naming the field, and writes none of it (it used to commit, then answer 500)', async () => {
    const before = await jobCount();
    const body = '{"jobs":[{"funcname":"in.sur","uniqkey":"a\\ud800"},{"funcname":"in.sur","uniqkey":"b\\ud800"}]}';
    expect(await send('POST', '/jobs', body)).toMatchObject({ status: 400, json: { error: { field: 'jobs[0].uniqkey' } } });
    expect(await jobCount()).toBe(before);
  });

  it.each([
    ['a NUL in arg', '{"funcname":"in.f","arg":{"s":"a\\u0000b"}}', 'arg.s'],
    ['a lone surrogate in arg', '{"funcname":"in.f","arg":["\\udc00"]}', 'arg[0]'],
    ['a NUL in uniqkey', '{"funcname":"in.f","uniqkey":"k\\u0000"}', 'uniqkey'],
    ['a lone surrogate in coalesce', '{"funcname":"in.f","coalesce":"\\ud83d"}', 'coalesce'],
    ['runAfter in year 0', '{"funcname":"in.f","runAfter":"0000-06-01T00:00:00Z"}', 'runAfter'],
    ['runAfter that an offset moves into year 0', '{"funcname":"in.f","runAfter":"0001-01-01T00:00:00+01:00"}', 'runAfter'],
    ['an arg nested 3,000 deep', `{"funcname":"in.f","arg":${'['.repeat(3000)}${']'.repeat(3000)}}`, `arg${'[0]'.repeat(512)}`],
    ['a number JSON cannot hold', '{"funcname":"in.f","arg":{"n":1e400}}', 'arg.n'],
    ['a batch with another key', '{"jobs":[{"funcname":"in.f"}],"funcname":"in.f"}', 'funcname'],
    ['a job with an unknown key', '{"funcname":"in.f","__proto__":{"x":1}}', '__proto__'],
  ])('answers %s with a 400 naming the field, writing nothing', async (_what, body, field) => {
    const before = await jobCount();
    expect(await send('POST', '/jobs', body)).toMatchObject({ status: 400, json: { error: { field } } });
    expect(await jobCount()).toBe(before);
  });

  it('keeps __proto__ and constructor.prototype inside arg as plain data, as sent', async () => {
    const sent = '{"funcname":"in.proto","arg":{"__proto__":{"admin":true},"constructor":{"prototype":{"y":2}}}}';
    const { status, json } = await send('POST', '/jobs', sent);
    expect(status).toBe(201);
    const job = await send('GET', `/jobs/${json.id as string}`);
    const arg = job.json.arg as Record<string, unknown>;
    expect(Object.getPrototypeOf(arg)).toBe(Object.prototype);
    expect(Object.hasOwn(arg, '__proto__')).toBe(true);
    expect(JSON.stringify(arg)).toBe('{"__proto__":{"admin":true},"constructor":{"prototype":{"y":2}}}');
  });
});

describe('HTTP API: reschedule takes only never, +N or ISO 8601 with an offset', () => {
  it.each([['1'], ['2030-01-01'], ['tomorrow'], ['+-5'], ['+999999999999'], ['0000-01-01T00:00:00Z']])('refuses %j naming when, and leaves the job as it was', async (when) => {
    const { json } = await send('POST', '/jobs', '{"funcname":"in.when","runAfter":"2040-01-01T00:00:00Z"}');
    const id = json.id as string;
    const before = await ns.store.getJob(id);
    expect(await send('POST', `/jobs/${id}/reschedule`, JSON.stringify({ when }))).toMatchObject({ status: 400, json: { error: { field: 'when' } } });
    expect(await ns.store.getJob(id)).toEqual(before);
  });

  it('refuses a missing when and unknown keys by name, and takes the three good forms', async () => {
    const { json } = await send('POST', '/jobs', '{"funcname":"in.when2","runAfter":"2040-01-01T00:00:00Z"}');
    const id = json.id as string;
    expect(await send('POST', `/jobs/${id}/reschedule`, '{}')).toMatchObject({ status: 400, json: { error: { field: 'when' } } });
    expect(await send('POST', `/jobs/${id}/reschedule`, '{"when":"never","at":1}')).toMatchObject({ status: 400, json: { error: { field: 'at' } } });
    expect(await send('POST', `/jobs/${id}/reschedule`, '{"when":"2041-02-03T04:05:06+01:00"}')).toMatchObject({ status: 200, json: { runAfter: '2041-02-03T03:05:06.000Z' } });
    expect(await send('POST', `/jobs/${id}/reschedule`, '{"when":"+3600"}')).toMatchObject({ status: 200, json: { state: 'scheduled' } });
    expect(await send('POST', `/jobs/${id}/reschedule`, '{"when":"never"}')).toMatchObject({ status: 200, json: { runAfter: null } });
  });
});

describe('HTTP API: filters and ids named as the caller sent them', () => {
  it.each([
    ['/jobs?state=done', 'state'],
    ['/jobs?state=ready,nope', 'state'],
    ['/jobs?before=abc', 'before'],
    ['/jobs?funcname=', 'funcname'],
    ['/jobs?funcname=a&funcname=b', 'funcname'],
    ['/jobs?limit=0', 'limit'],
    ['/jobs?limit=1e3', 'limit'],
    ['/jobs?arg=%7B%22a%22%3A%22%5Cu0000%22%7D', 'arg.a'],
    ['/jobs?arg=%5B%22%5Cud800%22%5D', 'arg[0]'],
    ['/jobs?colour=red', 'colour'],
    ['/jobs/0', 'id'],
    [`/jobs/${'9'.repeat(300)}`, 'id'],
    ['/jobs/%E0%A4%A', 'url'],
  ])('GET %s is a 400 naming %s', async (url, field) => {
    expect(await send('GET', url)).toMatchObject({ status: 400, json: { error: { field } } });
  });

  it('takes repeated and comma-separated states', async () => {
    expect((await send('GET', '/jobs?state=ready&state=failed,cancelled&limit=5')).status).toBe(200);
  });
});

describe('HTTP API: one error shape for what the framework refuses', () => {
  it('unknown routes, wrong content types, bodies that are not JSON or too large', async () => {
    expect(await send('GET', '/nope')).toMatchObject({ status: 404, json: { error: { message: expect.stringContaining('/nope') } } });
    expect(await send('POST', '/jobs', 'funcname=x', 'application/x-www-form-urlencoded')).toMatchObject({ status: 415, json: { error: { field: 'content-type' } } });
    expect(await send('POST', '/jobs', '{"funcname":')).toMatchObject({ status: 400, json: { error: { field: 'body' } } });
    expect(await send('POST', '/jobs', '')).toMatchObject({ status: 400, json: { error: { field: 'body' } } });
    const small = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger, bodyLimit: 100 });
    try {
      const response = await small.inject({ method: 'POST', url: '/jobs', payload: JSON.stringify({ funcname: 'in.big', arg: 'x'.repeat(200) }), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
      expect({ status: response.statusCode, json: response.json<unknown>() }).toMatchObject({ status: 413, json: { error: { field: 'body' } } });
    } finally {
      await small.close();
    }
  });
});

describe('HTTP API: conflicts and data errors', () => {
  it('answers a retry that conflicts with 409 in the error shape, not 500', async () => {
    const first = await ns.store.insert({ funcname: 'in.retry', uniqkey: 'once' });
    await ns.store.cancel(first.id);
    await ns.store.insert({ funcname: 'in.retry', uniqkey: 'once' });
    expect(await send('POST', `/jobs/${first.id}/retry`)).toMatchObject({ status: 409, json: { error: { message: expect.stringContaining('uniqkey') } } });
    const live = await ns.store.insert({ funcname: 'in.retry' });
    expect(await send('POST', `/jobs/${live.id}/retry`)).toMatchObject({ status: 409, json: { error: { message: expect.stringContaining('ready') } } });
    expect((await send('POST', '/jobs/987654321/retry')).status).toBe(404);
  });

  it('answers a data error from PostgreSQL (SQLSTATE class 22) with a 400, never a 500', async () => {
    // A real PostgreSQL data error, raised by a store whose read hits one.
    const dataError = await ns.pool.query("SELECT 'x'::int").then(() => null, (err: unknown) => err);
    if (!(dataError instanceof Error)) throw new Error('the cast was expected to fail', { cause: dataError });
    expect((dataError as { code?: string }).code).toBe('22P02');
    const failing: JobStore = Object.create(ns.store, { getJob: { value: () => Promise.reject(dataError) } }) as JobStore;
    const api = createHttpApi({ store: failing, clients: ns.store.clients, logger: silentLogger });
    try {
      const response = await api.inject({ method: 'GET', url: '/jobs/1', headers: { authorization: `Bearer ${token}` } });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { message: expect.stringContaining('database refused') } });
    } finally {
      await api.close();
    }
  });
});

describe('HTTP API over a socket: slow and malformed requests', () => {
  let server: FastifyInstance;
  let port = 0;
  beforeAll(async () => {
    server = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger, requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 });
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(url).port);
  });
  afterAll(async () => {
    await server.close();
  });

  /** Writes raw bytes and collects what comes back until the server closes the connection. */
  function raw(text: string): { received: () => string; closed: Promise<void> } {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(text);
    return { received: () => received, closed };
  }

  it('times out a connection that sent part of a body, with a 408 in the error shape', async () => {
    const conn = raw(`POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"funcname":`);
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(conn.received().split('\r\n\r\n')[1]!)).toMatchObject({ error: { message: expect.any(String) } });
  });

  it('answers headers too large with 431 in the error shape', async () => {
    const conn = raw(`GET /jobs?funcname=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await waitFor(() => conn.received().includes('\r\n\r\n{'), { timeoutMs: 5_000 });
    expect(conn.received()).toMatch(/^HTTP\/1\.1 431/);
    expect(JSON.parse(conn.received().split('\r\n\r\n')[1]!)).toMatchObject({ error: { message: expect.any(String) } });
  });
});
