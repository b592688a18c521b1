/**
 * @drover/cli — the `drover` command, and its pieces for embedding.
 *
 * @example
 * ```sh
 * drover up                                  # controller + scheduler
 * drover worker ./handlers.js                # a worker for the functions the module exports
 * drover enqueue email.send '{"to":"a@example.com"}' --json
 * drover jobs --state failed && drover retry 42
 * ```
 */
export { main } from './main.js';
export { configFromEnv, type Config } from './config.js';
export { rpcListenOptions, type RpcListenOptions } from './rpc-config.js';
export { loadHandlers } from './commands/services.js';
