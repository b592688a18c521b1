/**
 * The controller: the relay plus the HTTP API. Starts the relay first so jobs flow as soon as the
 * API accepts them; stops in reverse: the API stops taking jobs, then the relay finishes its step.
 */
import { silentLogger, type Broker, type Logger } from '@drover/core';
import type { FastifyInstance } from 'fastify';
import { createHttpApi, type ApiStore } from './http.js';
import { Relay, type RelayOptions } from './relay.js';

export interface ControllerOptions {
  /** What the relay and the API need of the store (see {@link RelayOptions} and {@link ApiStore}). */
  store: RelayOptions['store'] & ApiStore;
  broker: Broker;
  logger?: Logger;
  relay?: Omit<RelayOptions, 'store' | 'broker' | 'logger'>;
  /** Where the API listens; 127.0.0.1 unless configured otherwise (the API has no authentication yet). Port 0 picks a free one. */
  http?: { host?: string; port?: number } | false;
}

export class Controller {
  readonly relay: Relay;
  readonly #http: FastifyInstance | null;
  readonly #options: ControllerOptions;
  readonly #logger: Logger;
  /** The API's address once started, e.g. http://127.0.0.1:8080. */
  url: string | null = null;

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.relay = new Relay({ store: options.store, broker: options.broker, logger: this.#logger, ...options.relay });
    this.#http = options.http === false ? null : createHttpApi({ store: options.store, logger: this.#logger, health: () => ({ relay: { ...this.relay.totals, leading: this.relay.leading } }) });
  }

  async start(): Promise<void> {
    await this.relay.start();
    if (this.#http && this.#options.http !== false) {
      const { host = '127.0.0.1', port = 8080 } = this.#options.http ?? {};
      this.url = await this.#http.listen({ host, port });
      this.#logger.info({ url: this.url }, 'controller API listening');
    }
  }

  async stop(): Promise<void> {
    await this.#http?.close();
    await this.relay.stop();
  }
}

export function createController(options: ControllerOptions): Controller {
  return new Controller(options);
}
