import { ValidationError } from '@drover/core';
import { describe, expect, it } from 'vitest';
import type { ChannelListener, MessageChannel } from './channel.js';
import { CallFailedError, RemoteError, RpcError } from './errors.js';
import { Peer, type MethodHandler } from './peer.js';

/** A channel whose other end is the test: what the peer sends is recorded, what the test delivers arrives. */
function testChannel() {
  const sent: unknown[] = [];
  let listener: ChannelListener | null = null;
  const state = { closed: null as string | null, paused: false };
  const channel: MessageChannel = {
    transport: 'tcp',
    remoteAddress: '127.0.0.1',
    certificateCn: undefined,
    listen: (l) => void (listener = l),
    send: async (text) => {
      if (state.closed !== null) throw new Error('closed');
      sent.push(JSON.parse(text));
    },
    pause: () => void (state.paused = true),
    resume: () => void (state.paused = false),
    close: (reason) => {
      state.closed ??= reason;
      listener?.close(reason);
    },
  };
  const deliver = (message: unknown): void => listener!.message(typeof message === 'string' ? message : JSON.stringify(message));
  return { channel, sent, deliver, state };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function peerWith(methods: Record<string, MethodHandler>, options: { maxInFlight?: number; callTimeoutMs?: number } = {}) {
  const t = testChannel();
  const table = new Map(Object.entries(methods));
  const peer = new Peer({ channel: t.channel, methods: (name) => table.get(name), ...options });
  return { ...t, peer };
}

describe('Peer answering', () => {
  it('echoes the caller id exactly and sends result even when it is null', async () => {
    const t = peerWith({ nothing: () => undefined, echo: (params) => params });
    t.deliver({ jsonrpc: '2.0', method: 'nothing', params: {}, id: 'YWJj+/=' });
    t.deliver({ jsonrpc: '2.0', method: 'echo', params: { a: 1 }, id: 7 });
    await settle();
    expect(t.sent).toEqual([
      { jsonrpc: '2.0', id: 'YWJj+/=', result: null },
      { jsonrpc: '2.0', id: 7, result: { a: 1 } },
    ]);
    expect(Object.hasOwn(t.sent[0] as object, 'result')).toBe(true);
  });

  it.each([
    ['not JSON', '{"jsonrpc":', -32700, null],
    ['a batch', '[{"jsonrpc":"2.0","method":"m","id":1}]', -32600, null],
    ['a scalar', '42', -32600, null],
    ['a wrong version', '{"jsonrpc":"1.0","method":"m","id":1}', -32600, 1],
    ['a method that is not a string', '{"jsonrpc":"2.0","method":5,"id":"x"}', -32600, 'x'],
    ['an id that is an object', '{"jsonrpc":"2.0","method":"m","id":{}}', -32600, null],
    ['params that are an array', '{"jsonrpc":"2.0","method":"m","params":[1],"id":2}', -32602, 2],
    ['params that are null', '{"jsonrpc":"2.0","method":"m","params":null,"id":2}', -32602, 2],
    ['an unknown method', '{"jsonrpc":"2.0","method":"nope","params":{},"id":3}', -32601, 3],
    ['a prototype name', '{"jsonrpc":"2.0","method":"constructor","params":{},"id":4}', -32601, 4],
  ])('answers %s with an error of exactly code and message', async (_what, text, code, id) => {
    const t = peerWith({ m: () => 'ok' });
    t.deliver(text);
    await settle();
    expect(t.sent).toHaveLength(1);
    const reply = t.sent[0] as { id: unknown; error: Record<string, unknown> };
    expect(reply.id).toEqual(id);
    expect(Object.keys(reply.error).sort()).toEqual(['code', 'message']);
    expect(reply.error.code).toBe(code);
    expect(reply.error.message).toEqual(expect.any(String));
  });

  it('maps a method error: RpcError as thrown, a ValidationError to -32001 naming the field, anything else to -32603 without internals', async () => {
    const t = peerWith({
      rpc: () => {
        throw new RpcError(-32002, 'say hello first');
      },
      bad: () => {
        throw new ValidationError('job_id', 'must be a whole number');
      },
      broken: () => {
        throw new Error('connection string postgres://secret');
      },
    });
    for (const [i, method] of ['rpc', 'bad', 'broken'].entries()) t.deliver({ jsonrpc: '2.0', method, params: {}, id: i + 1 });
    await settle();
    expect(t.sent).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: -32002, message: 'say hello first' } },
      { jsonrpc: '2.0', id: 2, error: { code: -32001, message: 'job_id: must be a whole number' } },
      { jsonrpc: '2.0', id: 3, error: { code: -32603, message: 'broken: internal error' } },
    ]);
  });

  it('answers nothing to a notification, even one that fails or names no method', async () => {
    const seen: unknown[] = [];
    const t = peerWith({ task_done: (params) => void seen.push(params), fail: () => { throw new Error('x'); } });
    t.deliver({ jsonrpc: '2.0', method: 'task_done', params: { cookie: 'c' } });
    t.deliver({ jsonrpc: '2.0', method: 'fail', params: {} });
    t.deliver({ jsonrpc: '2.0', method: 'unknown', params: {} });
    await settle();
    expect(seen).toEqual([{ cookie: 'c' }]);
    expect(t.sent).toEqual([]);
  });

  it('sends a result that cannot be JSON as an internal error', async () => {
    const t = peerWith({ big: () => 10n });
    t.deliver({ jsonrpc: '2.0', method: 'big', params: {}, id: 1 });
    await settle();
    expect(t.sent).toEqual([{ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'big: internal error' } }]);
  });

  it('runs afterReply callbacks only once the answer is sent', async () => {
    const order: string[] = [];
    const t = peerWith({
      create: (_params, call) => {
        call.afterReply(() => order.push(`after, ${t.sent.length} sent`));
        return [1, null];
      },
    });
    t.deliver({ jsonrpc: '2.0', method: 'create', params: {}, id: 1 });
    await settle();
    expect(order).toEqual(['after, 1 sent']);
  });

  it('stops reading past its in-flight bound and answers the queued requests in order', async () => {
    const gates: (() => void)[] = [];
    const t = peerWith({ slow: () => new Promise<string>((resolve) => gates.push(() => resolve('done'))) }, { maxInFlight: 2 });
    for (let id = 1; id <= 4; id++) t.deliver({ jsonrpc: '2.0', method: 'slow', params: {}, id });
    await settle();
    expect(gates).toHaveLength(2);
    expect(t.state.paused).toBe(true);
    gates.shift()!();
    await settle();
    expect(gates).toHaveLength(2);
    for (let i = 0; i < 3; i++) {
      gates.shift()!();
      await settle();
    }
    expect((t.sent as { id: number }[]).map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(t.state.paused).toBe(false);
  });
});

describe('Peer calling', () => {
  it('sends truthy string ids and settles calls from responses, whatever type the id comes back as', async () => {
    const t = peerWith({});
    const first = t.peer.call('ping', {});
    const second = t.peer.call('ping', {});
    await settle();
    const ids = (t.sent as { id: string }[]).map((m) => m.id);
    expect(ids).toEqual(['1', '2']);
    t.deliver({ jsonrpc: '2.0', id: 1, result: 'pong' });
    t.deliver({ jsonrpc: '2.0', id: '2', error: { code: -32601, message: 'no ping here' } });
    await expect(first).resolves.toBe('pong');
    await expect(second).rejects.toEqual(new RemoteError(-32601, 'no ping here'));
  });

  it('fails a call with no answer in time, and drops the late answer', async () => {
    const t = peerWith({}, { callTimeoutMs: 20 });
    await expect(t.peer.call('ping', {})).rejects.toBeInstanceOf(CallFailedError);
    t.deliver({ jsonrpc: '2.0', id: '1', result: 'pong' });
    await settle();
    expect(t.state.closed).toBeNull();
  });

  it('closes on a response with a null id (the client refused something) and fails the calls left', async () => {
    const t = peerWith({});
    const pending = t.peer.call('ping', {});
    t.deliver({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Method is not a notification' } });
    expect(t.state.closed).toMatch(/Method is not a notification/);
    await expect(pending).rejects.toBeInstanceOf(CallFailedError);
    expect(t.peer.closed).toBe(true);
  });

  it('sends notifications with params and no id', async () => {
    const t = peerWith({});
    await t.peer.notify('greetings', { who: 'drover', version: '1.1' });
    expect(t.sent).toEqual([{ jsonrpc: '2.0', method: 'greetings', params: { who: 'drover', version: '1.1' } }]);
  });
});
