import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryBroker } from '@drover/broker';
import { useTestNamespace, waitFor } from '@drover/testing';
import { ValidationError, type ApiClient } from '@drover/core';
import { FailureThrottle, RpcServer, createAuthenticator, createController, type Controller, type Credentials } from '../src/index.js';
import { connectTcpClient, connectTlsClient, connectWebSocketClient, type Message, type TestConnection } from './rpc-client.js';
import { makeTestCertificates, type TestCertificates } from './tls-certificates.js';

/** A client as the store would return it; these tests inject their own authenticator to see what it is given. */
const client = (who: string): ApiClient => ({ who, call: [], work: [], admin: false, certificateCn: null, createdAt: new Date(0), rotatedAt: null });

const ns = useTestNamespace();
const certs: TestCertificates = makeTestCertificates();
const seen: Credentials[] = [];
let controller: Controller;

/** alice's token is "secret"; a `clientcert` hello is let in when a verified certificate names the client. */
async function authenticate(credentials: Credentials): Promise<{ ok: true; client: ApiClient } | { ok: false; reason: string }> {
  seen.push(credentials);
  if (credentials.who === 'boom') throw new Error('the client store is down: postgres://internal');
  if (credentials.method === 'clientcert') {
    return credentials.certificateCn === credentials.who ? { ok: true, client: client(credentials.who) } : { ok: false, reason: 'no verified certificate for this client' };
  }
  return credentials.who === 'alice' && credentials.token === 'secret' ? { ok: true, client: client('alice') } : { ok: false, reason: 'wrong who or token' };
}

beforeAll(async () => {
  controller = createController({
    store: ns.store,
    clients: ns.store.clients,
    broker: new MemoryBroker(),
    http: { port: 0 },
    rpc: {
      authenticate,
      serverName: 'drover-test',
      tcp: { port: 0 },
      tls: { port: 0, cert: certs.server.cert, key: certs.server.key, clientCa: certs.ca },
      helloTimeoutMs: 1_000,
      pingIntervalMs: 200,
      pingTimeoutMs: 500,
      methods: {
        whoami: (_params, session) => ({ who: session.who, client: session.client, transport: session.transport, certificateCn: session.certificateCn ?? null }),
        nothing: () => undefined,
        needs_job_id: (params) => {
          if (typeof params.job_id !== 'number') throw new ValidationError('job_id', 'must be a number');
          return params.job_id;
        },
      },
    },
  });
  await controller.start();
});
afterAll(async () => {
  await controller.stop();
});

const tcpPort = (): number => controller.rpcAddresses!.tcp!.port;
const tlsPort = (): number => controller.rpcAddresses!.tls!.port;

function expectError(message: Message, code: number, text?: RegExp): void {
  expect(message.error, JSON.stringify(message)).toBeDefined();
  expect(Object.keys(message.error!).sort()).toEqual(['code', 'message']);
  expect(message.error!.code).toBe(code);
  if (text) expect(message.error!.message).toMatch(text);
}

async function greeted(conn: TestConnection, serverName = 'drover-test'): Promise<TestConnection> {
  expect(await conn.next()).toEqual({ jsonrpc: '2.0', method: 'greetings', params: { who: serverName, version: '1.1' } });
  return conn;
}

async function helloAlice(conn: TestConnection): Promise<void> {
  const reply = await conn.call('hello', { who: 'alice', method: 'password', token: 'secret' });
  expect(reply.result).toEqual([true, expect.stringContaining('welcome')]);
}

describe('JSON-RPC session over TCP', () => {
  it('greets, answers ping before hello, and refuses every other method with -32002', async () => {
    const conn = await greeted(await connectTcpClient(tcpPort()));
    const pong = await conn.call('ping');
    expect(pong.result).toEqual(expect.stringContaining('pong'));
    expectError(await conn.call('whoami'), -32002, /hello/);
    expectError(await conn.call('no_such_method'), -32002);
    conn.close();
  });

  it('lets a good hello in: methods run with the authenticated client, unknown ones answer -32601, null results are sent as null', async () => {
    const conn = await greeted(await connectTcpClient(tcpPort(), { answerPings: true }));
    await helloAlice(conn);
    expect((await conn.call('whoami')).result).toEqual({ who: 'alice', client: expect.objectContaining({ who: 'alice' }), transport: 'tcp', certificateCn: null });
    const nothing = await conn.call('nothing');
    expect(nothing).toMatchObject({ result: null });
    expect(conn.texts.some((t) => t.includes(`"id":"${String(nothing.id)}"`) && t.includes('"result":null'))).toBe(true);
    expectError(await conn.call('no_such_method'), -32601, /no_such_method/);
    expectError(await conn.call('needs_job_id', { job_id: 'x' }), -32001, /job_id/);
    expectError(await conn.call('whoami', [1, 2]), -32602, /params/);
    expect((await conn.call('check_if_lock_exists', { locktype: 'a', lockvalue: 'b' })).result).toBe(false);
    expectError(await conn.call('hello', { who: 'alice', token: 'secret' }), -32001, /already said hello/);
    expect(seen.at(-1)).toEqual({ who: 'alice', method: 'password', token: 'secret', address: '127.0.0.1' });
    conn.close();
  });

  it('answers a refused hello with [false, reason] and closes the connection after it', async () => {
    const conn = await greeted(await connectTcpClient(tcpPort()));
    const reply = await conn.call('hello', { who: 'alice', method: 'password', token: 'wrong' });
    expect(reply.result).toEqual([false, 'wrong who or token']);
    await conn.closed;
  });

  it('answers an authenticator that fails with [false, …] that leaks nothing, and closes', async () => {
    const conn = await greeted(await connectTcpClient(tcpPort()));
    const reply = await conn.call('hello', { who: 'boom', token: 'x' });
    expect(reply.result).toEqual([false, 'authentication is unavailable; try again later']);
    await conn.closed;
  });

  it('names the bad hello parameter and keeps the connection for a good hello', async () => {
    const conn = await greeted(await connectTcpClient(tcpPort(), { answerPings: true }));
    expectError(await conn.call('hello', { method: 'password', token: 'secret' }), -32001, /^who:/);
    expectError(await conn.call('hello', { who: 'alice', token: 42 }), -32001, /^token:/);
    await helloAlice(conn);
    conn.close();
  });

  it('closes a connection that says no hello in time', async () => {
    const conn = await greeted(await connectTcpClient(tcpPort()));
    await conn.closed;
    expect(conn.isClosed()).toBe(true);
  });

  it('pings an authenticated client with a truthy id and keeps it while it answers', async () => {
    const conn = await greeted(await connectTcpClient(tcpPort(), { answerPings: true }));
    await helloAlice(conn);
    const ping = await waitForMessage(conn, (m) => m.method === 'ping');
    expect(ping.id).toBeTruthy();
    expect(ping.id).not.toBe('0');
    expect(ping.params).toEqual({});
    // Two more ping periods and more: still served.
    await waitForMessage(conn, (m) => m.method === 'ping');
    await waitForMessage(conn, (m) => m.method === 'ping');
    expect((await conn.call('whoami')).result).toMatchObject({ who: 'alice' });
    conn.close();
  });

  it('drops an authenticated client that does not answer its ping', async () => {
    const conn = await greeted(await connectTcpClient(tcpPort(), { answerPings: false }));
    await helloAlice(conn);
    await waitForMessage(conn, (m) => m.method === 'ping');
    await conn.closed;
  });

  it('closes the connection on a malformed or an oversized frame', async () => {
    const malformed = await greeted(await connectTcpClient(tcpPort()));
    malformed.sendRaw('05:hello,');
    await malformed.closed;
    const oversized = await greeted(await connectTcpClient(tcpPort()));
    oversized.sendRaw(`${1024 * 1024 + 1}:`);
    await oversized.closed;
  });

  it('closes the connection when the client refuses a message (a response with a null id)', async () => {
    const conn = await greeted(await connectTcpClient(tcpPort()));
    conn.send({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Method is not a notification' } });
    await conn.closed;
  });
});

describe('JSON-RPC over TLS', () => {
  it('hands the CN of a certificate the client CA verified to authenticate', async () => {
    const conn = await greeted(await connectTlsClient(tlsPort(), { ca: certs.ca, cert: certs.client.cert, key: certs.client.key, servername: 'localhost' }, { answerPings: true }));
    const reply = await conn.call('hello', { who: 'worker-1', method: 'clientcert', token: '' });
    expect(reply.result).toEqual([true, expect.stringContaining('worker-1')]);
    expect(seen.at(-1)).toMatchObject({ who: 'worker-1', certificateCn: 'worker-1' });
    expect((await conn.call('whoami')).result).toMatchObject({ who: 'worker-1', transport: 'tls', certificateCn: 'worker-1' });
    conn.close();
  });

  it('gives no CN for a certificate the CA does not vouch for, and takes a token without a certificate', async () => {
    const rogue = await greeted(await connectTlsClient(tlsPort(), { ca: certs.ca, cert: certs.rogue.cert, key: certs.rogue.key, servername: 'localhost' }));
    expect((await rogue.call('hello', { who: 'alice', method: 'clientcert' })).result).toEqual([false, 'no verified certificate for this client']);
    expect(seen.at(-1)).toEqual({ who: 'alice', method: 'clientcert', token: '', address: '127.0.0.1' });
    await rogue.closed;

    const plain = await greeted(await connectTlsClient(tlsPort(), { ca: certs.ca, servername: 'localhost' }, { answerPings: true }));
    await helloAlice(plain);
    expect(seen.at(-1)?.certificateCn).toBeUndefined();
    plain.close();
  });
});

describe('JSON-RPC over WebSocket', () => {
  it('serves the same session at /rpc on the HTTP port, one message per WebSocket message', async () => {
    const url = `${controller.url!.replace(/^http/, 'ws')}/rpc`;
    const conn = await greeted(await connectWebSocketClient(url, { answerPings: true }));
    expect((await conn.call('ping')).result).toEqual(expect.stringContaining('pong'));
    expectError(await conn.call('whoami'), -32002);
    await helloAlice(conn);
    expect((await conn.call('whoami')).result).toMatchObject({ who: 'alice', transport: 'websocket' });
    expectError(await conn.call('nope'), -32601);
    const ping = await waitForMessage(conn, (m) => m.method === 'ping');
    expect(ping.id).toBeTruthy();
    conn.send('{not json');
    expectError(await conn.next(), -32700);
    conn.close();
  });

  it('closes a WebSocket that sends a binary message or one over the size limit', async () => {
    const url = `${controller.url!.replace(/^http/, 'ws')}/rpc`;
    const binary = new WebSocket(url);
    const binaryClosed = new Promise<number>((resolve) => binary.on('close', (code) => resolve(code)));
    binary.on('open', () => binary.send(Buffer.from('{"jsonrpc":"2.0","method":"ping","params":{},"id":1}')));
    expect(await binaryClosed).toBe(1003);
    const big = new WebSocket(url);
    const bigClosed = new Promise<number>((resolve) => big.on('close', (code) => resolve(code)));
    big.on('error', () => undefined);
    big.on('open', () => big.send('x'.repeat(1024 * 1024 + 1)));
    expect(await bigClosed).toBe(1009);
  });

  it('refuses an upgrade from a web page of another origin, or under a foreign Host (DNS rebinding), before any hello', async () => {
    const url = `${controller.url!.replace(/^http/, 'ws')}/rpc`;
    const statusOf = (headers: Record<string, string>): Promise<number> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => reject(new Error('the upgrade was accepted')));
        ws.on('error', () => undefined);
      });
    const before = seen.length;
    expect(await statusOf({ origin: 'https://evil.example' })).toBe(403);
    expect(await statusOf({ origin: 'null' })).toBe(403);
    expect(await statusOf({ host: 'evil.example' })).toBe(421);
    expect(seen.length).toBe(before);
    // Its own origin, as a page the API served would send, is let in and greeted.
    const own = new WebSocket(url, { headers: { origin: controller.url! } });
    const greeting = await new Promise<string>((resolve, reject) => {
      own.on('message', (data: Buffer) => resolve(data.toString()));
      own.on('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    });
    expect(JSON.parse(greeting)).toMatchObject({ method: 'greetings' });
    own.close();
  });

  it('refuses an upgrade on any other path, and the HTTP API still answers', async () => {
    const url = `${controller.url!.replace(/^http/, 'ws')}/elsewhere`;
    await expect(connectWebSocketClient(url)).rejects.toThrow(/404/);
    expect((await fetch(`${controller.url}/health`)).status).toBe(200);
  });
});

describe('JSON-RPC hello throttle', () => {
  it('refuses hellos from an address with too many recent failures without checking a token, on the real client store', async () => {
    const { token } = await ns.store.clients.add({ who: 'throttled' });
    let checked = 0;
    const clients = ns.store.clients;
    const counting = { verifyToken: (who: string, t: string) => (checked++, clients.verifyToken(who, t)), byCertificateCn: (cn: string) => clients.byCertificateCn(cn) };
    const server = new RpcServer({ authenticate: createAuthenticator(counting, new FailureThrottle({ failures: 2 })), tcp: { port: 0 } });
    await server.start(null);
    try {
      const refusals: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const conn = await greeted(await connectTcpClient(server.addresses.tcp!.port), 'drover');
        refusals.push((await conn.call('hello', { who: 'throttled', token: 'guess' })).result);
        await conn.closed;
      }
      expect(refusals.slice(0, 2)).toEqual([[false, 'who or token is wrong'], [false, 'who or token is wrong']]);
      expect(refusals[2]).toEqual([false, expect.stringMatching(/too many failed attempts from this address; try again in \d+ s/)]);
      // Blocked now: even the right token is not checked.
      const conn = await greeted(await connectTcpClient(server.addresses.tcp!.port), 'drover');
      expect((await conn.call('hello', { who: 'throttled', token })).result).toEqual([false, expect.stringMatching(/too many failed attempts/)]);
      await conn.closed;
      expect(checked).toBe(3);
    } finally {
      await server.stop();
    }
  });
});

describe('JSON-RPC sessions of real clients', () => {
  it('end when their client is removed or its token rotated, at the next ping', async () => {
    const real = createController({ store: ns.store, clients: ns.store.clients, broker: new MemoryBroker(), http: false, rpc: { tcp: { port: 0 }, pingIntervalMs: 100, pingTimeoutMs: 1_000 } });
    await real.start();
    try {
      const { token } = await ns.store.clients.add({ who: 'rotating' });
      const { token: kept } = await ns.store.clients.add({ who: 'kept' });
      const open = async (who: string, t: string): Promise<TestConnection> => {
        const conn = await greeted(await connectTcpClient(real.rpcAddresses!.tcp!.port, { answerPings: true }), 'drover');
        expect((await conn.call('hello', { who, method: 'password', token: t })).result).toEqual([true, expect.any(String)]);
        return conn;
      };
      const rotating = await open('rotating', token);
      const staying = await open('kept', kept);
      // Pings come and go while the client is unchanged.
      await waitForMessage(rotating, (m) => m.method === 'ping');
      await waitForMessage(rotating, (m) => m.method === 'ping');
      await ns.store.clients.rotate('rotating');
      await rotating.closed;
      const removing = await open('kept', kept);
      await ns.store.clients.remove('kept');
      await Promise.all([staying.closed, removing.closed]);
    } finally {
      await real.stop();
    }
  });
});

describe('JSON-RPC shutdown', () => {
  it('stop() closes open connections and the listeners within its grace', async () => {
    const server = new RpcServer({ authenticate, tcp: { port: 0 }, stopGraceMs: 2_000 });
    await server.start(null);
    const port = server.addresses.tcp!.port;
    const idle = await connectTcpClient(port);
    await idle.next();
    const authed = await connectTcpClient(port, { answerPings: true });
    await authed.next();
    expect((await authed.call('hello', { who: 'alice', token: 'secret' })).result).toEqual([true, expect.any(String)]);
    expect(server.connections).toBe(2);
    await server.stop();
    await Promise.all([idle.closed, authed.closed]);
    expect(server.connections).toBe(0);
    await expect(connectTcpClient(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a controller not asked to serve JSON-RPC serves none', async () => {
    const plain = createController({ store: ns.store, clients: ns.store.clients, broker: new MemoryBroker(), http: { port: 0 } });
    await plain.start();
    try {
      expect(plain.rpcAddresses).toBeNull();
      await expect(connectWebSocketClient(`${plain.url!.replace(/^http/, 'ws')}/rpc`)).rejects.toThrow();
    } finally {
      await plain.stop();
    }
  });
});

/** Reads messages until one matches (others are dropped). */
async function waitForMessage(conn: TestConnection, match: (m: Message) => boolean): Promise<Message> {
  return waitFor(async () => {
    const message = await conn.next(5_000);
    return match(message) ? message : null;
  }, { timeoutMs: 10_000, intervalMs: 0, what: 'a matching message' });
}
