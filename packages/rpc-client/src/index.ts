/**
 * @drover/rpc-client — Drover's own client of its JSON-RPC API (JobCenter's protocol), over TCP,
 * TLS or WebSocket: call a function and get its result, create a job without waiting, read a job's
 * status, find jobs by their arguments, and run a remote worker in a few lines. No database or
 * broker access: only the API's address and a client's token. The connection comes back by itself
 * after a drop (slot groups, announcements and waiting calls included).
 *
 * @example
 * ```ts
 * import { FatalError, connectApi } from '@drover/rpc-client';
 *
 * const api = await connectApi({ url: 'tcp://127.0.0.1:6522', who: 'shop', token: process.env.DROVER_TOKEN! });
 *
 * // A remote worker: the controller offers math.add's jobs to this connection, 4 at a time.
 * await api.work('math.add', ({ a, b }) => {
 *   if (typeof a !== 'number' || typeof b !== 'number') throw new FatalError('a and b must be numbers');
 *   return { sum: a + b };
 * }, { slots: 4 });
 *
 * const { sum } = await api.call('math.add', { a: 2, b: 3 }, { timeoutS: 60 }); // 5
 * const id = await api.callNb('math.add', { a: 1, b: 1 });
 * await api.getJobStatus(id); // { finished: false } or { finished: true, outargs: { sum: 2 } }
 * await api.close();
 * ```
 */
export {
  DEFAULT_CALL_TIMEOUT_S,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_RECONNECT_MAX_MS,
  DEFAULT_RECONNECT_MIN_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  RpcClient,
  connectApi,
  type CallOptions,
  type ConnectApiOptions,
  type JobStatus,
} from './client.js';
export { AuthError, CallError, CallTimeoutError, FatalError } from './errors.js';
export type { TaskHandler, TaskInfo, WorkOptions } from './internal/worker-side.js';
export { DEFAULT_TCP_PORT, DEFAULT_WEBSOCKET_PATH, parseApiUrl, type ApiAddress } from './url.js';
export { CallFailedError, RemoteError } from '@drover/jsonrpc';
