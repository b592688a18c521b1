/**
 * The API behind a reverse proxy, over real sockets against a real PostgreSQL client store: with
 * the proxy's address trusted (`http.trustProxy`, DROVER_TRUST_PROXY), authentication failures are
 * counted against the client X-Forwarded-For names, on the HTTP routes and on the WebSocket
 * JSON-RPC hello alike, and get_api_status and the logs show that client. Without the setting, or
 * from a peer not in the list, the header is ignored: every request is its socket's peer (here
 * 127.0.0.1), so all of them share one count. The tests connect from loopback, which plays the
 * proxy when `loopback` is trusted.
 */
import { request as httpRequest } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker } from '@drover/broker';
import { ValidationError, type Logger } from '@drover/core';
import { useTestNamespace } from '@drover/testing';
import { createController, type Controller } from '../src/index.js';
import { connectWebSocketClient } from './rpc-client.js';

const ns = useTestNamespace();
/** Failures allowed per address: the next one is answered as blocked, and so is all that follows. */
const FAILURES = 3;
const who = 'behind-proxy';
let token = '';
let adminToken = '';

beforeAll(async () => {
  token = (await ns.store.clients.add({ who, call: ['proxied.*'] })).token;
  adminToken = (await ns.store.clients.add({ who: 'proxy-admin', admin: true })).token;
});

/** Every `info` line the controller logged, with its child loggers' bindings merged in. */
interface LogLine {
  fields: Record<string, unknown>;
  msg: string;
}

function recordingLogger(lines: LogLine[], bindings: Record<string, unknown> = {}): Logger {
  const record = (obj: unknown, msg?: string): void => {
    if (typeof obj === 'string') lines.push({ fields: bindings, msg: obj });
    else lines.push({ fields: { ...bindings, ...(obj as Record<string, unknown>) }, msg: msg ?? '' });
  };
  const ignore = (): void => undefined;
  return { debug: ignore, info: record, warn: ignore, error: ignore, child: (more) => recordingLogger(lines, { ...bindings, ...more }) };
}

interface Running {
  controller: Controller;
  port: number;
  logs: LogLine[];
}

/** A controller of its own (its own throttle) serving HTTP and WebSocket JSON-RPC on one port. */
async function withController(trustProxy: string[] | undefined, fn: (running: Running) => Promise<void>): Promise<void> {
  const logs: LogLine[] = [];
  const controller = createController({
    store: ns.store,
    clients: ns.store.clients,
    broker: new MemoryBroker(),
    logger: recordingLogger(logs),
    http: { port: 0, ...(trustProxy ? { trustProxy } : {}) },
    throttle: { failures: FAILURES, windowMs: 60_000, blockMs: 60_000 },
    relay: { sweepMs: 60_000 },
    rpc: { tcp: false },
  });
  await controller.start();
  try {
    await fn({ controller, port: Number(new URL(controller.url!).port), logs });
  } finally {
    await controller.stop();
  }
}

/** How an attempt was answered: let in, refused (a failure counted), or blocked (not even checked). */
type Verdict = 'ok' | 'refused' | 'blocked';

/** GET /jobs with this token, sent from loopback with this X-Forwarded-For (fetch would not let a test set it). */
function overHttp(running: Running, bearer: string, forwardedFor: string | null): Promise<Verdict> {
  const headers: Record<string, string> = { host: `127.0.0.1:${running.port}`, authorization: `Bearer ${bearer}` };
  if (forwardedFor !== null) headers['x-forwarded-for'] = forwardedFor;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: running.port, method: 'GET', path: '/jobs?limit=1', headers }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) resolve('ok');
        else if (res.statusCode === 401) resolve('refused');
        else if (res.statusCode === 429) resolve('blocked');
        else reject(new Error(`unexpected status ${res.statusCode}`));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket JSON-RPC connection whose upgrade carries this X-Forwarded-For, greeted; the hello is the caller's. */
async function openWebSocket(running: Running, forwardedFor: string | null): ReturnType<typeof connectWebSocketClient> {
  const conn = await connectWebSocketClient(`${running.controller.url!.replace(/^http/, 'ws')}/rpc`, {
    answerPings: true,
    ...(forwardedFor === null ? {} : { headers: { 'x-forwarded-for': forwardedFor } }),
  });
  expect(await conn.next()).toMatchObject({ method: 'greetings' });
  return conn;
}

/** A WebSocket hello as `who` with this token; the connection is closed after it. */
async function overWebSocket(running: Running, secret: string, forwardedFor: string | null): Promise<Verdict> {
  const conn = await openWebSocket(running, forwardedFor);
  try {
    const answer = await conn.call('hello', { who, method: 'password', token: secret });
    expect(answer.result, JSON.stringify(answer)).toEqual([expect.any(Boolean), expect.any(String)]);
    const [ok, reason] = answer.result as [boolean, string];
    if (ok) return 'ok';
    return /too many failed attempts/.test(reason) ? 'blocked' : 'refused';
  } finally {
    conn.close();
  }
}

const transports = {
  http: (running: Running, good: boolean, forwardedFor: string | null) => overHttp(running, good ? token : `${who}:wrong-guess`, forwardedFor),
  websocket: (running: Running, good: boolean, forwardedFor: string | null) => overWebSocket(running, good ? token : 'wrong-guess', forwardedFor),
};

/** Fails FAILURES times as 203.0.113.5, each refused; the failure after them must be answered as blocked. */
async function exhaust(attempt: (good: boolean, forwardedFor: string | null) => Promise<Verdict>): Promise<void> {
  for (let i = 0; i < FAILURES; i++) expect(await attempt(false, '203.0.113.5')).toBe('refused');
  expect(await attempt(false, '203.0.113.5')).toBe('blocked');
}

describe.each(['http', 'websocket'] as const)('authentication failures over %s', (transport) => {
  it('are counted against the forwarded client when loopback is trusted: one client is blocked, another is not', async () => {
    await withController(['loopback'], async (running) => {
      const attempt = (good: boolean, forwardedFor: string | null) => transports[transport](running, good, forwardedFor);
      await exhaust(attempt);
      // Blocked means not even checked: the right token waits out the block too.
      expect(await attempt(true, '203.0.113.5')).toBe('blocked');
      expect(await attempt(false, '203.0.113.6')).toBe('refused');
      expect(await attempt(true, '203.0.113.6')).toBe('ok');
      // A client that writes its own X-Forwarded-For through a proxy that appends to it: the entry
      // the trusted proxy added (the last) is the client, whatever the client wrote before it.
      expect(await attempt(true, '203.0.113.6, 203.0.113.5')).toBe('blocked');
      // The proxy's own requests, with no header, are its own address, which nobody blocked.
      expect(await attempt(true, null)).toBe('ok');
    });
  });

  it('share one count when no proxy is trusted: X-Forwarded-For is ignored', async () => {
    await withController(undefined, async (running) => {
      const attempt = (good: boolean, forwardedFor: string | null) => transports[transport](running, good, forwardedFor);
      await exhaust(attempt);
      expect(await attempt(false, '203.0.113.6')).toBe('blocked');
      expect(await attempt(true, '203.0.113.6')).toBe('blocked');
      expect(await attempt(true, null)).toBe('blocked');
    });
  });

  it('share one count when the peer is not a trusted proxy: its forged X-Forwarded-For is ignored', async () => {
    await withController(['192.0.2.1', 'uniquelocal', '::2/128'], async (running) => {
      const attempt = (good: boolean, forwardedFor: string | null) => transports[transport](running, good, forwardedFor);
      await exhaust(attempt);
      expect(await attempt(true, '203.0.113.6')).toBe('blocked');
      expect(await attempt(true, null)).toBe('blocked');
    });
  });
});

describe('the WebSocket client address', () => {
  /** get_api_status's clients, as proxy-admin says hello through the upgrade's X-Forwarded-For. */
  async function seenAs(running: Running, forwardedFor: string): Promise<unknown> {
    const conn = await openWebSocket(running, forwardedFor);
    try {
      expect((await conn.call('hello', { who: 'proxy-admin', method: 'password', token: adminToken })).result).toEqual([true, expect.stringContaining('welcome')]);
      return (await conn.call('get_api_status', { what: 'clients' })).result;
    } finally {
      conn.close();
    }
  }

  it('is the forwarded client in get_api_status and the logs when loopback is trusted', async () => {
    await withController(['loopback'], async (running) => {
      expect(await seenAs(running, '203.0.113.7')).toEqual([expect.objectContaining({ who: 'proxy-admin', address: '203.0.113.7', transport: 'websocket' })]);
      expect(running.logs.filter((l) => l.msg === 'hello').map((l) => l.fields)).toEqual([expect.objectContaining({ who: 'proxy-admin', address: '203.0.113.7', transport: 'websocket' })]);
    });
  });

  it('is the socket peer when no proxy is trusted, whatever the upgrade says', async () => {
    await withController(undefined, async (running) => {
      expect(await seenAs(running, '203.0.113.7')).toEqual([expect.objectContaining({ who: 'proxy-admin', address: '127.0.0.1' })]);
      expect(running.logs.filter((l) => l.msg === 'hello').map((l) => l.fields)).toEqual([expect.objectContaining({ address: '127.0.0.1' })]);
    });
  });
});

describe('a bad list of trusted proxies', () => {
  it.each([[['proxy.example']], [['1']], [['10.0.0.0/33']], [['10.0.0.1', '']], [[]], [['loopback ']]])('%j is refused naming http.trustProxy, before anything listens', (trustProxy) => {
    const create = () => createController({ store: ns.store, clients: ns.store.clients, broker: new MemoryBroker(), http: { port: 0, trustProxy }, rpc: { tcp: false } });
    expect(create).toThrow(ValidationError);
    expect(create).toThrow(expect.objectContaining({ field: 'http.trustProxy' }));
  });
});
