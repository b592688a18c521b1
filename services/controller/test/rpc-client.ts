/**
 * A bare JSON-RPC test client over real sockets: it sends what the test says (well-formed or not)
 * and hands back every message the server sends, in order. No session logic of its own beyond
 * optionally answering the server's pings, so tests see the wire as a client would.
 */
import { connect as connectNet, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import WebSocket from 'ws';
import { NetstringDecoder, encodeNetstring } from '@drover/jsonrpc';

export type Message = Record<string, unknown> & { id?: unknown; method?: string; params?: unknown; result?: unknown; error?: { code: number; message: string } };

export interface TestConnection {
  /** Sends one message (an object is JSON-encoded; a string or bytes go as they are, framed). */
  send(message: unknown): void;
  /** Writes raw bytes with no framing (netstring transports only). */
  sendRaw(bytes: Buffer | string): void;
  /** The next message from the server; fails after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Message>;
  /** Calls and waits for the response with this call's id; messages before it are kept for next(). */
  call(method: string, params?: unknown): Promise<Message>;
  /** Sends a notification. */
  notify(method: string, params?: unknown): void;
  /** Hands every later notification of this method to `fn` instead of next(); returns a function that stops it. */
  onNotification(method: string, fn: (params: Record<string, unknown>) => void): () => void;
  /** Raw texts received so far (to check how `result: null` is spelled). */
  readonly texts: string[];
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

interface Wire {
  write(text: string | Buffer): void;
  writeRaw(bytes: Buffer | string): void;
  end(): void;
}

let nextCallId = 1;

function makeConnection(options: { answerPings: boolean }, setup: (deliver: (text: string) => void, closed: () => void) => Wire): TestConnection {
  const queue: Message[] = [];
  const waiters: ((m: Message) => void)[] = [];
  const texts: string[] = [];
  /** Calls waiting for their response, by id: concurrent calls each get their own. */
  const pending = new Map<string, (m: Message) => void>();
  const listeners = new Map<string, (params: Record<string, unknown>) => void>();
  let isClosed = false;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const wire = setup(
    (text) => {
      texts.push(text);
      const message = JSON.parse(text) as Message;
      if (options.answerPings && message.method === 'ping' && message.id !== undefined) {
        wire.write(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: 'pong' }));
      }
      const answered = typeof message.id === 'string' && message.method === undefined ? pending.get(message.id) : undefined;
      const listener = message.method !== undefined && message.id === undefined ? listeners.get(message.method) : undefined;
      if (answered) {
        pending.delete(message.id as string);
        answered(message);
        return;
      }
      if (listener) {
        listener((message.params ?? {}) as Record<string, unknown>);
        return;
      }
      const waiter = waiters.shift();
      if (waiter) waiter(message);
      else queue.push(message);
    },
    () => {
      isClosed = true;
      markClosed();
    },
  );
  const next = (timeoutMs = 5_000): Promise<Message> => {
    const queued = queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`no message from the server within ${timeoutMs} ms${isClosed ? ' (the connection is closed)' : ''}`));
      }, timeoutMs);
      const waiter = (m: Message): void => {
        clearTimeout(timer);
        resolve(m);
      };
      waiters.push(waiter);
    });
  };
  return {
    texts,
    closed,
    isClosed: () => isClosed,
    send: (message) => wire.write(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message)),
    sendRaw: (bytes) => wire.writeRaw(bytes),
    next,
    call(method, params = {}) {
      const id = `c${nextCallId++}`;
      return new Promise<Message>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`no answer to ${method} within 5000 ms${isClosed ? ' (the connection is closed)' : ''}`));
        }, 5_000);
        pending.set(id, (m) => {
          clearTimeout(timer);
          resolve(m);
        });
        wire.write(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
      });
    },
    notify: (method, params = {}) => wire.write(JSON.stringify({ jsonrpc: '2.0', method, params })),
    onNotification(method, fn) {
      listeners.set(method, fn);
      return () => listeners.delete(method);
    },
    close: () => wire.end(),
  };
}

function overSocket(socket: Socket, deliver: (text: string) => void, closed: () => void): Wire {
  const decoder = new NetstringDecoder(64 * 1024 * 1024);
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) deliver(frame.toString('utf8'));
  });
  socket.on('error', () => undefined);
  socket.on('close', closed);
  return {
    write: (text) => void (socket.writable && socket.write(encodeNetstring(text))),
    writeRaw: (bytes) => void (socket.writable && socket.write(bytes)),
    end: () => void socket.destroy(),
  };
}

/** Connects over plain TCP; resolves once connected. */
export function connectTcpClient(port: number, options: { answerPings?: boolean } = {}): Promise<TestConnection> {
  return new Promise((resolve, reject) => {
    const socket = connectNet({ host: '127.0.0.1', port });
    const conn = makeConnection({ answerPings: options.answerPings ?? false }, (deliver, closed) => overSocket(socket, deliver, closed));
    socket.once('connect', () => resolve(conn));
    socket.once('error', reject);
  });
}

/** Connects over TLS; resolves once the handshake is done. */
export function connectTlsClient(port: number, tls: ConnectionOptions, options: { answerPings?: boolean } = {}): Promise<TestConnection> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, ...tls });
    const conn = makeConnection({ answerPings: options.answerPings ?? false }, (deliver, closed) => overSocket(socket, deliver, closed));
    socket.once('secureConnect', () => resolve(conn));
    socket.once('error', reject);
  });
}

/** Connects over WebSocket; resolves once open. */
export function connectWebSocketClient(url: string, options: { answerPings?: boolean; headers?: Record<string, string> } = {}): Promise<TestConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.headers ? { headers: options.headers } : {});
    const conn = makeConnection({ answerPings: options.answerPings ?? false }, (deliver, closed) => {
      ws.on('message', (data: Buffer) => deliver(data.toString('utf8')));
      ws.on('close', closed);
      ws.on('error', () => undefined);
      return {
        write: (text) => void (ws.readyState === ws.OPEN && ws.send(typeof text === 'string' ? text : text.toString('utf8'))),
        writeRaw: () => {
          throw new Error('a WebSocket has no raw bytes to write');
        },
        end: () => ws.terminate(),
      };
    });
    ws.once('open', () => resolve(conn));
    ws.once('error', reject);
  });
}

/** What a scripted remote worker's handler answers: the outargs to send, or null to send no task_done at all. */
export type TaskScript = (task: { actionname: string; jobId: unknown; cookie: string; inargs: unknown }) => Promise<Record<string, unknown> | null> | Record<string, unknown> | null;

/**
 * A remote worker as JobCenter's client runs one: on `task_ready` it calls `get_task` and, when
 * that answers a task, runs the script and sends `task_done` with the cookie. Every step is
 * recorded for the test to check.
 */
export class ScriptedWorker {
  readonly offers: { actionname: string; job_id: unknown }[] = [];
  /** get_task answers, `[]` included. */
  readonly answers: unknown[][] = [];
  /**
   * Tasks taken (get_task answered one) and not yet answered with task_done. Counted from the take,
   * not the offer: an offer whose get_task came after the offer timeout (a stalled event loop) was
   * already declined by the controller, its slot free again, and only gets `[]`.
   */
  out = 0;
  /** The most tasks out at once. */
  mostOut = 0;
  /** Outargs sent, in order. */
  readonly done: Record<string, unknown>[] = [];

  constructor(
    readonly conn: TestConnection,
    script: TaskScript,
  ) {
    conn.onNotification('task_ready', (params) => {
      const offer = { actionname: String(params.actionname), job_id: params.job_id };
      this.offers.push(offer);
      this.#run(offer, script).catch(() => undefined);
    });
  }

  async #run(offer: { actionname: string; job_id: unknown }, script: TaskScript): Promise<void> {
    const reply = await this.conn.call('get_task', offer).catch(() => null);
    const answer = (reply?.result ?? null) as unknown[] | null;
    if (!Array.isArray(answer)) return;
    this.answers.push(answer);
    if (answer.length === 0) return;
    const [jobId, cookie, inargs] = answer as [unknown, string, unknown];
    this.out++;
    this.mostOut = Math.max(this.mostOut, this.out);
    try {
      const outargs = await script({ actionname: offer.actionname, jobId, cookie, inargs });
      if (outargs === null) return;
      this.done.push(outargs);
      this.conn.notify('task_done', { cookie, outargs });
    } finally {
      this.out--;
    }
  }
}
