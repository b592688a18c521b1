/**
 * The controller: the relay, the HTTP API and, when an authenticator is given, the JSON-RPC API.
 * Starts the relay first so jobs flow as soon as the APIs accept them; stops in reverse: the
 * JSON-RPC connections close, the HTTP API stops taking jobs, then the relay finishes its step.
 */
import { silentLogger, type Broker, type JobStore, type Logger } from '@drover/core';
import type { FastifyInstance } from 'fastify';
import { createHttpApi } from './http.js';
import { Relay, type RelayOptions } from './relay.js';
import { RpcServer, type RpcAddresses, type RpcOptions } from './rpc/rpc-server.js';

export interface ControllerOptions<TClient = unknown> {
  store: JobStore;
  broker: Broker;
  logger?: Logger;
  relay?: Omit<RelayOptions, 'store' | 'broker' | 'logger'>;
  /** Where the API listens; 127.0.0.1 unless configured otherwise (the API has no authentication yet). Port 0 picks a free one. */
  http?: { host?: string; port?: number } | false;
  /**
   * The JSON-RPC API (JobCenter's protocol). Served only when given, since every connection must
   * authenticate: its `authenticate` checks a hello's credentials, its `methods` are what an
   * authenticated session may call. The WebSocket transport shares the HTTP API's port.
   */
  rpc?: RpcOptions<TClient>;
}

export class Controller<TClient = unknown> {
  readonly relay: Relay;
  readonly #http: FastifyInstance | null;
  readonly #rpc: RpcServer<TClient> | null;
  readonly #options: ControllerOptions<TClient>;
  readonly #logger: Logger;
  /** The API's address once started, e.g. http://127.0.0.1:8080. */
  url: string | null = null;

  constructor(options: ControllerOptions<TClient>) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.relay = new Relay({ store: options.store, broker: options.broker, logger: this.#logger, ...options.relay });
    this.#http = options.http === false ? null : createHttpApi({ store: options.store, logger: this.#logger, health: () => ({ relay: { ...this.relay.totals, leading: this.relay.leading } }) });
    this.#rpc = options.rpc ? new RpcServer(options.rpc, this.#logger) : null;
  }

  /** Where the JSON-RPC API listens once started; null when it is not served. */
  get rpcAddresses(): RpcAddresses | null {
    return this.#rpc?.addresses ?? null;
  }

  async start(): Promise<void> {
    await this.relay.start();
    if (this.#http && this.#options.http !== false) {
      const { host = '127.0.0.1', port = 8080 } = this.#options.http ?? {};
      this.url = await this.#http.listen({ host, port });
      this.#logger.info({ url: this.url }, 'controller API listening');
    }
    await this.#rpc?.start(this.#http && this.url ? this.#http.server : null);
  }

  async stop(): Promise<void> {
    await this.#rpc?.stop();
    await this.#http?.close();
    await this.relay.stop();
  }
}

export function createController<TClient = unknown>(options: ControllerOptions<TClient>): Controller<TClient> {
  return new Controller(options);
}
