/**
 * A two-way JSON-RPC 2.0 peer over one {@link MessageChannel}: incoming requests and notifications
 * go to a method table, incoming responses settle the calls we made, and both ends may call.
 *
 * Written here rather than taken from `json-rpc-2.0` (JSONRPCServerAndClient), because each of the
 * quirks JobCenter's client needs would have been a patch on that library: it answers batches, it
 * drops `result` when a method returns undefined, it passes array params through (no -32602), it
 * maps a thrown error to code 0, and it finds methods in a plain object (so `toString` or
 * `constructor` resolve as methods). What is left to own is about 250 lines.
 *
 * Wire rules kept here, all from JOBCENTER-PROTOCOL.md: ids of our calls are truthy strings
 * ("1", "2", …, never "0"); a caller's id is echoed as it came; `result` is present even when null;
 * an error object has exactly `code` and `message`; a response with `"id": null` is the peer's
 * complaint about something we sent: it is logged and the connection closed.
 */
import { ValidationError, silentLogger, type Logger } from '@drover/core';
import type { MessageChannel } from './channel.js';
import { CallFailedError, RemoteError, RpcError, RpcErrorCode } from './errors.js';

/** Named parameters, as every JobCenter method takes them. */
export type Params = Record<string, unknown>;

/** What a method learns about the request it is answering. */
export interface IncomingCall {
  readonly method: string;
  /** Whether a response is expected (false for a notification). */
  readonly expectsReply: boolean;
  /**
   * Runs `fn` once the response has been handed to the transport (at once for a notification).
   * A `job_done` must never overtake the `create_job` result; a refused `hello` closes only after
   * its answer is out.
   */
  afterReply(fn: () => void): void;
}

/** A method: its return value is the result (undefined is sent as null); throw {@link RpcError} to answer an error. */
export type MethodHandler = (params: Params, call: IncomingCall) => unknown;

export interface PeerOptions {
  channel: MessageChannel;
  /** Finds the method for an incoming request; undefined answers -32601. Looked up per message, so a session can change what it offers. */
  methods: (name: string) => MethodHandler | undefined;
  logger?: Logger;
  /** Our calls fail after this long without an answer. */
  callTimeoutMs?: number;
  /** Incoming requests run at once up to this many; beyond it the channel stops reading until one finishes. */
  maxInFlight?: number;
}

/**
 * 30 s: JobCenter drops a worker that has not answered its ping within 30 s, and no method the
 * server calls on a client does more than answer at once.
 */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/**
 * 64 concurrent requests per connection: far above what one JobCenter client pipelines (a worker
 * has at most its slots' get_task calls open), low enough that one connection cannot queue
 * unbounded work; past it the connection is simply read more slowly.
 */
export const DEFAULT_MAX_IN_FLIGHT = 64;

type Id = string | number;

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is Id {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** One end of a JSON-RPC conversation. */
export class Peer {
  readonly channel: MessageChannel;
  readonly #methods: PeerOptions['methods'];
  readonly #log: Logger;
  readonly #callTimeoutMs: number;
  readonly #maxInFlight: number;
  readonly #pending = new Map<string, Pending>();
  /** Requests waiting for an in-flight slot, in arrival order. */
  readonly #queue: Record<string, unknown>[] = [];
  readonly #closeListeners: ((reason: string) => void)[] = [];
  #inFlight = 0;
  #nextId = 1;
  #closedReason: string | null = null;

  constructor(options: PeerOptions) {
    this.channel = options.channel;
    this.#methods = options.methods;
    this.#log = options.logger ?? silentLogger;
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.channel.listen({ message: (text) => this.#receive(text), close: (reason) => this.#closed(reason) });
  }

  /** Whether the channel has closed. */
  get closed(): boolean {
    return this.#closedReason !== null;
  }

  /** Runs `fn` when the channel closes (at once if it has). */
  onClose(fn: (reason: string) => void): void {
    if (this.#closedReason !== null) fn(this.#closedReason);
    else this.#closeListeners.push(fn);
  }

  /** Calls a method of the remote peer; resolves with its result, rejects with {@link RemoteError} or {@link CallFailedError}. */
  call(method: string, params: Params, options: { timeoutMs?: number } = {}): Promise<unknown> {
    if (this.#closedReason !== null) return Promise.reject(new CallFailedError(`${method}: the connection is closed (${this.#closedReason})`));
    const id = String(this.#nextId++);
    const timeoutMs = options.timeoutMs ?? this.#callTimeoutMs;
    let text: string;
    try {
      text = JSON.stringify({ jsonrpc: '2.0', method, params, id });
    } catch (err) {
      return Promise.reject(new CallFailedError(`${method}: params are not JSON`, { cause: err }));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CallFailedError(`${method}: no answer within ${timeoutMs} ms`, { sent: true }));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      this.channel.send(text).catch((err: unknown) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new CallFailedError(`${method}: could not be sent`, { cause: err }));
      });
    });
  }

  /** Sends a notification; resolves once it is handed to the transport. */
  notify(method: string, params: Params): Promise<void> {
    return this.channel.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Closes the connection (after what was sent is written). */
  close(reason: string): void {
    this.channel.close(reason);
  }

  #receive(text: string | null): void {
    if (this.#closedReason !== null) return;
    let message: unknown;
    try {
      if (text === null) throw new Error('invalid UTF-8');
      message = JSON.parse(text);
    } catch {
      this.#sendError(null, RpcErrorCode.ParseError, text === null ? 'parse error: the message is not valid UTF-8' : 'parse error: the message is not JSON');
      return;
    }
    if (Array.isArray(message)) {
      this.#sendError(null, RpcErrorCode.InvalidRequest, 'invalid request: batches are not supported; send one request per message');
      return;
    }
    if (!isObject(message)) {
      this.#sendError(null, RpcErrorCode.InvalidRequest, 'invalid request: a message must be a JSON-RPC 2.0 object');
      return;
    }
    if (!Object.hasOwn(message, 'method') && (Object.hasOwn(message, 'result') || Object.hasOwn(message, 'error'))) {
      this.#response(message);
      return;
    }
    if (this.#inFlight >= this.#maxInFlight) {
      this.#queue.push(message);
      this.channel.pause();
      return;
    }
    this.#request(message);
  }

  /** A request or notification: checked, then dispatched. */
  #request(message: Record<string, unknown>): void {
    const hasId = Object.hasOwn(message, 'id');
    const id = hasId && isId(message.id) ? message.id : null;
    if (hasId && id === null) return this.#sendError(null, RpcErrorCode.InvalidRequest, 'invalid request: id must be a string or a number');
    if (message.jsonrpc !== '2.0') return this.#sendError(id, RpcErrorCode.InvalidRequest, 'invalid request: jsonrpc must be "2.0"');
    if (typeof message.method !== 'string') return this.#sendError(id, RpcErrorCode.InvalidRequest, 'invalid request: method must be a string');
    const method = message.method;
    // Absent params are none; present, they must be an object (null is not).
    const params = Object.hasOwn(message, 'params') ? message.params : {};
    const respond = id !== null;
    if (!isObject(params)) {
      if (respond) this.#sendError(id, RpcErrorCode.InvalidParams, `${method.slice(0, 100)}: params must be an object`);
      return;
    }
    const handler = this.#methods(method);
    if (!handler) {
      if (respond) this.#sendError(id, RpcErrorCode.MethodNotFound, `unknown method: ${method.slice(0, 100)}`);
      else this.#log.debug({ method: method.slice(0, 100) }, 'notification for an unknown method dropped');
      return;
    }
    const after: (() => void)[] = [];
    const call: IncomingCall = { method, expectsReply: respond, afterReply: (fn) => void after.push(fn) };
    this.#inFlight += 1;
    this.#run(handler, params, call, id, after).catch((err: unknown) => this.#log.error({ method, err }, 'an afterReply callback failed'));
  }

  /** Runs a method, answers it, then runs its afterReply callbacks; frees the in-flight slot whatever happens. */
  async #run(handler: MethodHandler, params: Params, call: IncomingCall, id: Id | null, after: (() => void)[]): Promise<void> {
    try {
      let reply: string;
      try {
        const result: unknown = await handler(params, call);
        reply = JSON.stringify({ jsonrpc: '2.0', id, result: result ?? null });
      } catch (err) {
        const { code, text } = this.#errorFor(call.method, err);
        reply = JSON.stringify({ jsonrpc: '2.0', id, error: { code, message: text } });
        // Nobody hears a notification's error; debug, since a client can send any number of them.
        if (!call.expectsReply) this.#log.debug({ method: call.method, code, err: text }, 'a notification failed');
      }
      if (call.expectsReply) await this.channel.send(reply).catch(() => undefined);
      for (const fn of after) fn();
    } finally {
      this.#finished();
    }
  }

  /** A handler finished: take the next queued request, and read again once the queue is empty. */
  #finished(): void {
    this.#inFlight -= 1;
    const next = this.#queue.shift();
    if (next && this.#closedReason === null) this.#request(next);
    if (this.#queue.length === 0 && this.#closedReason === null) this.channel.resume();
  }

  #errorFor(method: string, err: unknown): { code: number; text: string } {
    if (err instanceof RpcError) return { code: err.code, text: err.message };
    if (err instanceof ValidationError) return { code: RpcErrorCode.BadParameter, text: err.message };
    // Our own failure: logged in full, and the caller learns no internals.
    this.#log.error({ method, err }, 'a method failed');
    return { code: RpcErrorCode.InternalError, text: `${method}: internal error` };
  }

  #response(message: Record<string, unknown>): void {
    if (message.id === null) {
      // JobCenter's client answers what it cannot read with an id-less error, then hangs up.
      const error = isObject(message.error) ? message.error : {};
      this.#log.warn({ code: error.code, message: error.message }, 'the peer refused a message of ours');
      this.close(`the peer refused a message: ${typeof error.message === 'string' ? error.message.slice(0, 200) : 'no reason given'}`);
      return;
    }
    const key = isId(message.id) ? String(message.id) : null;
    const pending = key === null ? undefined : this.#pending.get(key);
    if (!pending) {
      this.#log.debug({ id: message.id }, 'a response to no call of ours dropped');
      return;
    }
    this.#pending.delete(key!);
    clearTimeout(pending.timer);
    if (Object.hasOwn(message, 'error')) {
      const error = isObject(message.error) ? message.error : {};
      const code = typeof error.code === 'number' ? error.code : RpcErrorCode.InternalError;
      pending.reject(new RemoteError(code, typeof error.message === 'string' ? error.message : 'error without a message'));
    } else {
      pending.resolve(message.result);
    }
  }

  #sendError(id: Id | null, code: number, text: string): void {
    this.channel.send(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message: text } })).catch(() => undefined);
  }

  #closed(reason: string): void {
    if (this.#closedReason !== null) return;
    this.#closedReason = reason;
    this.#queue.length = 0;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      // Sent, unanswered: whether the peer acted on it is unknown, and the message says so.
      pending.reject(new CallFailedError(`${pending.method}: the connection closed before the answer came (${reason}); the request was sent and may have taken effect`, { sent: true }));
    }
    this.#pending.clear();
    for (const fn of this.#closeListeners.splice(0)) fn(reason);
  }
}
