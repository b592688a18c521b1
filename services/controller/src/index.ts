/**
 * @drover/controller — relays ready jobs from PostgreSQL to the broker (publish, confirm, then mark
 * dispatched), takes jobs over HTTP for producers without database credentials, and serves
 * JobCenter's JSON-RPC protocol (TCP, TLS, WebSocket) to authenticated clients.
 *
 * @example
 * ```ts
 * import { createController } from '@drover/controller';
 *
 * const controller = createController({ store, broker, clients: store.clients, http: { port: 8080 } });
 * await controller.start();
 * // POST http://127.0.0.1:8080/jobs {"funcname":"email.send","arg":{...}}
 * // with Authorization: Bearer <a token from `drover clients add`>
 *
 * // With JSON-RPC (JobCenter's protocol on port 6522): every connection says hello with a client's token.
 * const api = createController({ store, broker, clients: store.clients, rpc: { methods: {} } });
 * ```
 */
export { Controller, createController, type ControllerOptions } from './controller.js';
export { DEFAULT_MAX_IN_BROKER, Relay, type RelayOptions } from './relay.js';
export { createHttpApi, type ApiStore, type HttpOptions } from './http.js';
export { DEFAULT_WEBHOOK_BODY_LIMIT, signatureValid } from './http-webhooks.js';
export { type TriggerJson } from './http-triggers.js';
export { PROXY_RANGE_NAMES, compileTrustedProxies, trustedProxiesProblem, type TrustProxy } from './trusted-proxies.js';
export { createAuthenticator, type AuthResult, type Authenticate, type Credentials } from './auth/authenticate.js';
export { FailureThrottle, type ThrottleOptions } from './auth/throttle.js';
export {
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_RPC_PORT,
  DEFAULT_STOP_GRACE_MS,
  DEFAULT_WEBSOCKET_PATH,
  RpcServer,
  type RpcAddresses,
  type RpcOptions,
} from './rpc/rpc-server.js';
export { PROTOCOL_VERSION, type Session, type SessionMethod } from './rpc/session.js';
export { DEFAULT_DRAIN_MS, DEFAULT_FILTER_RETRY_MS, DEFAULT_OFFER_TIMEOUT_MS, type RemoteWorkerOptions } from './rpc/remote/remote-worker.js';
