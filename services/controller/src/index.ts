/**
 * @drover/controller — relays ready jobs from PostgreSQL to the broker (publish, confirm, then mark
 * dispatched), takes jobs over HTTP for producers without database credentials, and serves
 * JobCenter's JSON-RPC protocol (TCP, TLS, WebSocket) to authenticated clients.
 *
 * @example
 * ```ts
 * import { createController } from '@drover/controller';
 *
 * const controller = createController({ store, broker, http: { port: 8080 } });
 * await controller.start();   // POST http://127.0.0.1:8080/jobs {"funcname":"email.send","arg":{...}}
 *
 * // With JSON-RPC: every connection says hello, checked by the injected authenticator.
 * const api = createController({ store, broker, http: { port: 8080 }, rpc: { authenticate, methods: {} } });
 * ```
 */
export { Controller, createController, type ControllerOptions } from './controller.js';
export { DEFAULT_MAX_IN_BROKER, Relay, type RelayOptions } from './relay.js';
export { createHttpApi, type HttpOptions } from './http.js';
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
export { DEFAULT_HELLO_MAX_FAILURES, DEFAULT_HELLO_WINDOW_SECONDS, type HelloThrottleOptions } from './rpc/hello-throttle.js';
export { PROTOCOL_VERSION, type AuthResult, type Authenticate, type Credentials, type Session, type SessionMethod } from './rpc/session.js';
