/**
 * @drover/controller — relays ready jobs from PostgreSQL to the broker (publish, confirm, then mark
 * dispatched), and takes jobs over HTTP for producers without database credentials.
 *
 * @example
 * ```ts
 * import { createController } from '@drover/controller';
 *
 * const controller = createController({ store, broker, clients: store.clients, http: { port: 8080 } });
 * await controller.start();
 * // POST http://127.0.0.1:8080/jobs {"funcname":"email.send","arg":{...}}
 * // with Authorization: Bearer <a token from `drover clients add`>
 * ```
 */
export { Controller, createController, type ControllerOptions } from './controller.js';
export { DEFAULT_MAX_IN_BROKER, Relay, type RelayOptions } from './relay.js';
export { createHttpApi, type ApiStore, type HttpOptions } from './http.js';
export { createAuthenticator, type AuthResult, type Authenticate, type Credentials } from './auth/authenticate.js';
export { FailureThrottle, type ThrottleOptions } from './auth/throttle.js';
