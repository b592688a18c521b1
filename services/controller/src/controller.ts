/**
 * The controller: the relay, the HTTP API and, when an authenticator is given, the JSON-RPC API.
 * Starts the relay first so jobs flow as soon as the APIs accept them; stops in reverse: the
 * JSON-RPC connections close, the HTTP API stops taking jobs, then the relay finishes its step.
 */
import { heartbeatInterval, silentLogger, type ApiClient, type ApiClientStore, type Broker, type CallerStore, type Logger, type PresenceOptions, type WorkerStore, type WorkflowStore } from '@drover/core';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { createAuthenticator, type Authenticate, type Credentials } from './auth/authenticate.js';
import { FailureThrottle, type ThrottleOptions } from './auth/throttle.js';
import { createHttpApi, type ApiStore } from './http.js';
import { createBrowserGuard } from './http-guard.js';
import { Relay, type RelayOptions } from './relay.js';
import { clientAddress, compileTrustedProxies } from './trusted-proxies.js';
import { jobcenterMethods, type JobcenterMethods } from './rpc/methods/index.js';
import type { RemoteWorkerOptions } from './rpc/remote/remote-worker.js';
import { RpcServer, type RpcAddresses, type RpcOptions } from './rpc/rpc-server.js';

export interface ControllerOptions {
  /**
   * What the relay and the APIs need of the store (see {@link RelayOptions} and {@link ApiStore};
   * JSON-RPC callers wait for their jobs through the {@link CallerStore}, and the remote workers
   * it runs claim and finish through the {@link WorkerStore}; check_if_lock_exists reads the
   * {@link WorkflowStore}'s locks).
   */
  store: RelayOptions['store'] & ApiStore & CallerStore & WorkerStore & WorkflowStore;
  broker: Broker;
  /** The namespace's API clients: every API request authenticates against them. */
  clients: ApiClientStore;
  logger?: Logger;
  relay?: Omit<RelayOptions, 'store' | 'broker' | 'logger'>;
  /**
   * Where the API listens (127.0.0.1 unless configured otherwise; port 0 picks a free one), the
   * host names it answers to besides loopback names, IP addresses and the bound host, and the
   * reverse proxies (addresses, CIDRs, `loopback`, `linklocal`, `uniquelocal`) whose
   * `X-Forwarded-For` names the client of an HTTP request or a WebSocket upgrade (unset: none;
   * see trusted-proxies.ts). A bad entry throws a ValidationError naming `http.trustProxy`.
   */
  http?: { host?: string; port?: number; allowedHosts?: readonly string[]; trustProxy?: readonly string[]; webhookBodyLimit?: number } | false;
  /** How repeated authentication failures from one address slow down. */
  throttle?: ThrottleOptions;
  /**
   * The JSON-RPC API (JobCenter's protocol): served when given. Every connection says hello,
   * checked by this controller's authenticator unless another is given. An authenticated session
   * may call JobCenter's methods (rpc/methods/), and `methods`, laid over them (a method given
   * here replaces the default of that name). The WebSocket transport shares the HTTP API's port.
   * `workers` tunes the remote workers (offer timeout, filter retry, …).
   */
  rpc?: Omit<RpcOptions<ApiClient>, 'authenticate'> & { authenticate?: Authenticate; workers?: RemoteWorkerOptions };
  /**
   * Worker presence: `GET /workers` lists the live workers from it, and each JSON-RPC connection
   * that announces is reported there as a remote worker. Unset: `GET /workers` answers 503.
   */
  presence?: PresenceOptions;
}

export class Controller {
  readonly relay: Relay;
  /**
   * Checks credentials for every entry point of the API (the HTTP API's tokens, the JSON-RPC
   * `hello`), counting failures per address in one throttle.
   */
  readonly authenticate: Authenticate;
  readonly #http: FastifyInstance | null;
  readonly #rpc: RpcServer<ApiClient> | null;
  /** JobCenter's methods and what they run beside them (the completion watcher); null without JSON-RPC. */
  readonly #jobcenter: JobcenterMethods | null;
  readonly #options: ControllerOptions;
  readonly #logger: Logger;
  /** The API's address once started, e.g. http://127.0.0.1:8080. */
  url: string | null = null;

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    // Checked here, not at the first announce, so a bad interval stops the controller's start.
    if (options.presence) heartbeatInterval(options.presence.heartbeatMs);
    this.relay = new Relay({ store: options.store, broker: options.broker, logger: this.#logger, ...options.relay });
    // One throttle for the doors that take credentials (tokens, the JSON-RPC hello); webhooks have
    // their own (see HttpOptions.webhookThrottle), with the same settings.
    const throttle = new FailureThrottle(options.throttle);
    this.authenticate = createAuthenticator(options.clients, throttle);
    const http = options.http === false ? null : (options.http ?? {});
    const allowedHosts = [...(http?.allowedHosts ?? []), ...(http?.host ? [http.host] : [])];
    // One compiled list for both users of the HTTP port, so an HTTP request and a WebSocket hello
    // that came through the same proxy are credited to the same client.
    const trustProxy = http?.trustProxy === undefined ? null : compileTrustedProxies(http.trustProxy, 'http.trustProxy');
    this.#http = http
      ? createHttpApi({
          store: options.store,
          clients: options.clients,
          authenticate: this.authenticate,
          throttle,
          webhookThrottle: new FailureThrottle(options.throttle),
          ...(http.webhookBodyLimit === undefined ? {} : { webhookBodyLimit: http.webhookBodyLimit }),
          logger: this.#logger,
          allowedHosts,
          ...(trustProxy ? { trustProxy } : {}),
          health: () => ({ relay: { ...this.relay.totals, leading: this.relay.leading } }),
          ...(options.presence ? { workers: options.presence.presence } : {}),
        })
      : null;
    // The WebSocket transport shares the HTTP port, so a browser page can reach it as it can the
    // routes: its upgrades pass the same Host and Origin checks.
    const browserGuard = createBrowserGuard(allowedHosts);
    if (options.rpc) {
      const { workers, methods, authenticate, ...rpc } = options.rpc;
      this.#jobcenter = jobcenterMethods({
        store: options.store,
        broker: options.broker,
        logger: this.#logger,
        ...(workers ? { workers } : {}),
        // get_api_status lists the server's sessions; the server is made just below, read when asked.
        sessions: () => this.#rpc?.sessions() ?? [],
        ...(options.presence ? { presence: options.presence } : {}),
      });
      this.#rpc = new RpcServer(
        {
          verifyWebSocket: (request) => browserGuard(request.headers),
          ...(trustProxy ? { webSocketClientAddress: (request: IncomingMessage) => clientAddress(request, trustProxy) } : {}),
          // With its own authenticator a caller decides what a session is; with ours, the clients still do.
          ...(authenticate ? {} : { stillValid: (credentials: Credentials) => stillValid(options.clients, credentials) }),
          ...rpc,
          methods: { ...this.#jobcenter.methods, ...methods },
          authenticate: authenticate ?? this.authenticate,
        },
        this.#logger,
      );
    } else {
      this.#jobcenter = null;
      this.#rpc = null;
    }
  }

  /** Where the JSON-RPC API listens once started; null when it is not served. */
  get rpcAddresses(): RpcAddresses | null {
    return this.#rpc?.addresses ?? null;
  }

  async start(): Promise<void> {
    await this.relay.start();
    try {
      if (this.#http && this.#options.http !== false) {
        const { host = '127.0.0.1', port = 8080 } = this.#options.http ?? {};
        this.url = await this.#http.listen({ host, port });
        this.#logger.info({ url: this.url }, 'controller API listening');
      }
      // Listening for completions before the first connection, so no create_job waits unheard.
      await this.#jobcenter?.start();
      await this.#rpc?.start(this.#http && this.url ? this.#http.server : null);
    } catch (err) {
      // A port taken (6522 by a JobCenter still running, say) must not leave half a controller serving.
      await this.stop().catch((stopErr: unknown) => this.#logger.warn({ err: stopErr }, 'stopping after a failed start failed'));
      throw err;
    }
  }

  async stop(): Promise<void> {
    // Tasks out are declined, not failed: the workers did nothing wrong.
    this.#jobcenter?.remotes.beginStop();
    await this.#rpc?.stop();
    // The connections are closed: their remote workers give their tasks back before the store goes.
    await this.#jobcenter?.remotes.close();
    await this.#jobcenter?.stop();
    await this.#http?.close();
    await this.relay.stop();
  }
}

/** Whether credentials that said hello still name a client: not removed, token not rotated, certificate still mapped. */
async function stillValid(clients: Pick<ApiClientStore, 'verifyToken' | 'byCertificateCn'>, { who, method, token, certificateCn }: Credentials): Promise<boolean> {
  if (method === 'clientcert') return certificateCn !== undefined && (await clients.byCertificateCn(certificateCn))?.who === who;
  return token !== undefined && (await clients.verifyToken(who, token)) !== null;
}

export function createController(options: ControllerOptions): Controller {
  return new Controller(options);
}
