/**
 * Property-based fuzz of the JSON-RPC server over real TCP sockets: well over 10,000 malformed
 * messages and frames. Each malformed message gets exactly the error it should (exactly `code` and
 * `message`, the caller's id echoed where it had a usable one) and leaves the session as it was;
 * each malformed frame closes its connection. Afterwards nothing has changed (no method ran, no
 * hello reached the authenticator) and a good client is served as usual.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES } from '@drover/jsonrpc';
import { RpcServer } from '../src/index.js';
import { connectTcpClient, type Message, type TestConnection } from './rpc-client.js';

let authenticateCalls = 0;
let methodRuns = 0;
const server = new RpcServer({
  authenticate: async ({ who, token }) => {
    authenticateCalls += 1;
    return who === 'alice' && token === 'secret' ? { ok: true, client: who } : { ok: false, reason: 'wrong who or token' };
  },
  tcp: { port: 0 },
  methods: {
    mutate: () => {
      methodRuns += 1;
      return 'changed';
    },
  },
});
let port: number;

beforeAll(async () => {
  await server.start(null);
  port = server.addresses.tcp!.port;
});
afterAll(async () => {
  await server.stop();
});

/** A malformed message and the error it must get. */
interface BadMessage {
  payload: string | Buffer;
  code: number;
  id: string | number | null;
  message?: RegExp;
}

const id = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.integer());
const notObject = fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }), fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null), fc.boolean());
const params = fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
const anyMethod = fc.string({ maxLength: 30 }).filter((m) => m !== 'hello' && m !== 'ping');

const badMessage: fc.Arbitrary<BadMessage> = fc.oneof(
  // Text that is not JSON, including every proper prefix of a valid request.
  fc.string({ maxLength: 60 }).filter((s) => !isJson(s)).map((payload) => ({ payload, code: -32700, id: null })),
  fc.tuple(anyMethod, params, id).chain(([method, p, i]) => {
    const text = JSON.stringify({ jsonrpc: '2.0', method, params: p, id: i });
    return fc.integer({ min: 0, max: text.length - 1 }).map((cut) => ({ payload: text.slice(0, cut), code: -32700, id: null }));
  }),
  // Bytes that are not UTF-8 (0xff never occurs in it).
  fc.uint8Array({ maxLength: 30 }).map((bytes) => ({ payload: Buffer.concat([Buffer.from(bytes), Buffer.from([0xff])]), code: -32700, id: null })),
  // JSON, but not one request object: batches, scalars, null.
  notObject.map((value) => ({ payload: JSON.stringify(value), code: -32600, id: null })),
  // A request object with a usable id and a wrong envelope.
  fc.tuple(fc.jsonValue({ maxDepth: 1 }).filter((v) => v !== '2.0'), id).map(([jsonrpc, i]) => ({ payload: JSON.stringify({ jsonrpc, method: 'ping', params: {}, id: i }), code: -32600, id: i })),
  fc.tuple(fc.jsonValue({ maxDepth: 1 }).filter((v) => typeof v !== 'string'), id).map(([method, i]) => ({ payload: JSON.stringify({ jsonrpc: '2.0', method, params: {}, id: i }), code: -32600, id: i })),
  // An id that is no id at all: answered with a null id.
  fc.oneof(fc.constant(null), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 })).map((badId) => ({ payload: JSON.stringify({ jsonrpc: '2.0', method: 'ping', params: {}, id: badId }), code: -32600, id: null })),
  // Params that are not an object.
  fc.tuple(fc.oneof(anyMethod, fc.constantFrom('hello', 'ping')), notObject, id).map(([method, p, i]) => ({ payload: JSON.stringify({ jsonrpc: '2.0', method, params: p, id: i }), code: -32602, id: i })),
  // Any other method before hello, the state-changing one included.
  fc.tuple(fc.oneof(anyMethod, fc.constant('mutate')), params, id).map(([method, p, i]) => ({ payload: JSON.stringify({ jsonrpc: '2.0', method, params: p, id: i }), code: -32002, id: i })),
  // A hello whose who or token is unusable: named, and no attempt made.
  fc.tuple(fc.jsonValue({ maxDepth: 1 }).filter((v) => typeof v !== 'string' || v === ''), id).map(([who, i]) => ({ payload: JSON.stringify({ jsonrpc: '2.0', method: 'hello', params: { who, token: 'secret' }, id: i }), code: -32001, id: i, message: /^who:/ })),
  fc.tuple(fc.jsonValue({ maxDepth: 1 }).filter((v) => typeof v !== 'string'), id).map(([token, i]) => ({ payload: JSON.stringify({ jsonrpc: '2.0', method: 'hello', params: { who: 'alice', token }, id: i }), code: -32001, id: i, message: /^token:/ })),
);

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Frames no netstring reader may accept; each must close its connection. */
const badFrame: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 99 }), fc.string({ maxLength: 10 })).map(([n, rest]) => `0${n}:${rest}`),
    // Anything not starting with a length; a lone "0" is not yet wrong (it may become the empty frame "0:,").
  fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^[1-9]/.test(s) && !/^0(:|$)/.test(s)),
  fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ minLength: 1, maxLength: 1 }).filter((c) => c !== ',')).map(([body, end]) => `${Buffer.byteLength(body)}:${body}${end}`),
  fc.integer({ min: DEFAULT_MAX_FRAME_BYTES + 1, max: 2 ** 40 }).map((n) => `${n}:`),
  fc.string({ minLength: 1, maxLength: 12 }).map((s) => `4:ping,${s.replace(/^[0-9]/, 'x')}`),
);

let messagesSent = 0;
let framesSent = 0;

async function connected(): Promise<TestConnection> {
  const conn = await connectTcpClient(port);
  expect((await conn.next()).method).toBe('greetings');
  return conn;
}

describe('JSON-RPC fuzz', () => {
  it('answers every malformed message with its error and keeps the session as it was', async () => {
    let sentinel = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(badMessage, { minLength: 10, maxLength: 30 }), async (messages) => {
        const conn = await connected();
        try {
          for (const bad of messages) {
            conn.send(bad.payload);
            const mark = `sentinel-${++sentinel}`;
            conn.send({ jsonrpc: '2.0', method: 'ping', params: {}, id: mark });
            const before: Message[] = [];
            for (let m = await conn.next(); m.id !== mark; m = await conn.next()) before.push(m);
            expect(before, String(bad.payload)).toHaveLength(1);
            const reply = before[0]!;
            expect(Object.keys(reply).sort()).toEqual(['error', 'id', 'jsonrpc']);
            expect(reply.id).toEqual(bad.id);
            expect(Object.keys(reply.error!).sort()).toEqual(['code', 'message']);
            expect(reply.error!.code, String(bad.payload)).toBe(bad.code);
            if (bad.message) expect(reply.error!.message).toMatch(bad.message);
            messagesSent += 1;
          }
          // Still the same session: not authenticated, nothing ran.
          expect((await conn.call('mutate')).error?.code).toBe(-32002);
          expect(conn.isClosed()).toBe(false);
        } finally {
          conn.close();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('closes the connection on every malformed frame', async () => {
    await fc.assert(
      fc.asyncProperty(badFrame, async (frame) => {
        const conn = await connected();
        conn.sendRaw(frame);
        await conn.closed;
        framesSent += 1;
      }),
      { numRuns: 1_500 },
    );
  });

  it('sent over 10,000 bad inputs, changed nothing, and still serves a good client', async () => {
    expect(messagesSent + framesSent).toBeGreaterThanOrEqual(10_000);
    expect(authenticateCalls).toBe(0);
    expect(methodRuns).toBe(0);
    const conn = await connectTcpClient(port, { answerPings: true });
    expect((await conn.next()).method).toBe('greetings');
    expect((await conn.call('hello', { who: 'alice', method: 'password', token: 'secret' })).result).toEqual([true, expect.any(String)]);
    expect((await conn.call('mutate')).result).toBe('changed');
    conn.close();
  });
});
