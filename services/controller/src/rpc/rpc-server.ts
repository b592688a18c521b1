/**
 * The controller's JSON-RPC server: the listeners (TCP, TLS, WebSocket on the HTTP server), one
 * {@link RpcSession} per connection, and the methods authenticated sessions may call. Methods are
 * injected: this layer offers `hello` and `ping` itself.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { silentLogger, type Logger } from '@drover/core';
import {
  attachWebSocket,
  listenTcp,
  listenTls,
  type MessageChannel,
  type RpcListener,
  type TransportKind,
  type WebSocketEndpoint,
} from '@drover/jsonrpc';
import type { Authenticate, Credentials } from '../auth/authenticate.js';
import { RpcSession, type SessionMethod, type SessionTimings } from './session.js';

/** JobCenter's port; Drover keeps it so its clients need no configuration. */
export const DEFAULT_RPC_PORT = 6522;
/** The WebSocket endpoint's path on the HTTP port. */
export const DEFAULT_WEBSOCKET_PATH = '/rpc';
/**
 * 10 s to say hello: JobCenter's client sends it as soon as the greeting arrives, so a connection
 * silent this long is not a client, and it holds a socket for nothing.
 */
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;
/** JobCenter pings its workers every 60 s and drops one silent for 30 s; Drover does the same. */
export const DEFAULT_PING_INTERVAL_MS = 60_000;
export const DEFAULT_PING_TIMEOUT_MS = 30_000;
/** On stop, connections get 5 s to take their last answers and close before they are cut off. */
export const DEFAULT_STOP_GRACE_MS = 5_000;

/** The names this layer answers itself; an injected method may not take them. */
const RESERVED = new Set(['hello', 'ping', 'greetings']);

export interface RpcOptions<TClient> {
  /** Checks a hello's credentials. Without it the controller serves no JSON-RPC at all. */
  authenticate: Authenticate<TClient>;
  /** Checked with each ping: whether a session's credentials still hold (see SessionOptions). */
  stillValid?: (credentials: Credentials) => Promise<boolean>;
  /** What an authenticated session may call (create_job, announce, …). */
  methods?: Record<string, SessionMethod<TClient>>;
  /** Sent in `greetings` and `hello`'s welcome. */
  serverName?: string;
  /** TCP with netstrings; `false` serves none. Host 127.0.0.1 and port 6522 unless given; port 0 picks a free one. */
  tcp?: { host?: string; port?: number } | false;
  /** TLS with netstrings, on its own port: off unless given. */
  tls?: { host?: string; port: number; cert: string | Buffer; key: string | Buffer; clientCa?: string | Buffer };
  /** The WebSocket path on the HTTP API's port; `false` serves none. */
  websocketPath?: string | false;
  /** Checks each WebSocket upgrade's headers (the controller passes the HTTP API's Host and Origin guard). */
  verifyWebSocket?: (request: IncomingMessage) => { status: number; message: string } | null;
  /**
   * The client's address of a WebSocket upgrade (the controller's trusted proxies, see
   * trusted-proxies.ts); the socket's peer by default. TCP and TLS carry no headers: theirs is
   * always the socket's peer.
   */
  webSocketClientAddress?: (request: IncomingMessage) => string;
  helloTimeoutMs?: number;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  stopGraceMs?: number;
  /** Largest netstring frame or WebSocket message taken. */
  maxMessageBytes?: number;
}

/** An authenticated connection, as `get_api_status` shows it. */
export interface SessionSummary {
  who: string;
  address: string;
  transport: TransportKind;
  /** When the connection was accepted. */
  since: Date;
}

/** The addresses the server listens on, once started. */
export interface RpcAddresses {
  tcp: { host: string; port: number } | null;
  tls: { host: string; port: number } | null;
  websocketPath: string | null;
}

export class RpcServer<TClient> {
  readonly #options: RpcOptions<TClient>;
  readonly #log: Logger;
  readonly #methods: Map<string, SessionMethod<TClient>>;
  readonly #timings: SessionTimings;
  readonly #sessions = new Set<RpcSession<TClient>>();
  #listeners: RpcListener[] = [];
  #websocket: WebSocketEndpoint | null = null;
  #stopping = false;
  addresses: RpcAddresses = { tcp: null, tls: null, websocketPath: null };

  constructor(options: RpcOptions<TClient>, logger: Logger = silentLogger) {
    this.#options = options;
    this.#log = logger.child({ component: 'rpc' });
    const methods = options.methods ?? {};
    const reserved = Object.keys(methods).find((name) => RESERVED.has(name));
    if (reserved) throw new Error(`rpc.methods: ${reserved} is served by the session layer and cannot be replaced`);
    this.#methods = new Map<string, SessionMethod<TClient>>();
    for (const [name, method] of Object.entries(methods)) this.#methods.set(name, method);
    this.#timings = {
      helloTimeoutMs: options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
      pingIntervalMs: options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
      pingTimeoutMs: options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
    };
  }

  /** The sessions open now (authenticated or not). */
  get connections(): number {
    return this.#sessions.size;
  }

  /** The authenticated sessions open now (a copy; connections still before their hello are left out). */
  sessions(): SessionSummary[] {
    const out: SessionSummary[] = [];
    for (const s of this.#sessions) {
      const session = s.session;
      if (session && !s.peer.closed) out.push({ who: session.who, address: session.address, transport: session.transport, since: s.since });
    }
    return out;
  }

  /** Starts the listeners; `httpServer` carries the WebSocket endpoint. */
  async start(httpServer: HttpServer | null): Promise<void> {
    const { tcp, tls, websocketPath = DEFAULT_WEBSOCKET_PATH, maxMessageBytes } = this.#options;
    const onChannel = (channel: MessageChannel): void => this.#accept(channel);
    const common = { onChannel, logger: this.#log, ...(maxMessageBytes !== undefined ? { maxFrameBytes: maxMessageBytes } : {}) };
    try {
      if (tcp !== false) {
        const listener = await listenTcp({ ...common, host: tcp?.host ?? '127.0.0.1', port: tcp?.port ?? DEFAULT_RPC_PORT });
        this.#listeners.push(listener);
        this.addresses.tcp = { host: listener.host, port: listener.port };
      }
      if (tls) {
        const listener = await listenTls({ ...common, host: tls.host ?? '127.0.0.1', port: tls.port, cert: tls.cert, key: tls.key, ...(tls.clientCa ? { clientCa: tls.clientCa } : {}) });
        this.#listeners.push(listener);
        this.addresses.tls = { host: listener.host, port: listener.port };
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (websocketPath !== false && httpServer) {
      const { verifyWebSocket: verify, webSocketClientAddress: clientAddress } = this.#options;
      this.#websocket = attachWebSocket({
        server: httpServer,
        path: websocketPath,
        onChannel,
        ...(verify ? { verify } : {}),
        ...(clientAddress ? { clientAddress } : {}),
        ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
      });
      this.addresses.websocketPath = websocketPath;
    }
    this.#log.info({ ...this.addresses }, 'JSON-RPC listening');
  }

  /**
   * Stops taking connections, asks every open one to close, waits for them within the stop grace,
   * then cuts off what is left.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    const closed = [...this.#sessions].map((s) => new Promise<void>((resolve) => s.peer.onClose(() => resolve())));
    for (const session of this.#sessions) session.close('the server is stopping');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
    });
    await Promise.race([Promise.all(closed), grace]);
    clearTimeout(timer);
    await Promise.all([...this.#listeners.map((l) => l.close()), this.#websocket?.close()]);
    this.#listeners = [];
    this.#websocket = null;
  }

  #accept(channel: MessageChannel): void {
    const session = new RpcSession<TClient>({
      channel,
      serverName: this.#options.serverName ?? 'drover',
      authenticate: this.#options.authenticate,
      ...(this.#options.stillValid ? { stillValid: this.#options.stillValid } : {}),
      methods: this.#methods,
      logger: this.#log,
      ...this.#timings,
    });
    if (this.#stopping) {
      session.close('the server is stopping');
      return;
    }
    this.#sessions.add(session);
    session.peer.onClose(() => this.#sessions.delete(session));
  }
}

