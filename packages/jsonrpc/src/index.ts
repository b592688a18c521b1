/**
 * @drover/jsonrpc — JSON-RPC 2.0 as JobCenter's clients speak it: netstring framing, a two-way
 * peer (both ends call, respond and notify on one connection), and three transports: TCP and TLS
 * with netstrings, and WebSocket on an existing HTTP server, each with its client end (`connectTcp`,
 * `connectTls`, `connectWebSocket`). Sessions and methods live above it (the controller's `rpc/`,
 * and `@drover/rpc-client`).
 *
 * @example
 * ```ts
 * import { Peer, listenTcp, RpcError, RpcErrorCode } from '@drover/jsonrpc';
 *
 * const listener = await listenTcp({
 *   port: 6522,
 *   onChannel: (channel) => {
 *     const peer = new Peer({ channel, methods: (name) => (name === 'ping' ? () => 'pong' : undefined) });
 *     void peer.notify('greetings', { who: 'drover', version: '1.1' });
 *   },
 * });
 * // a client sends 47:{"jsonrpc":"2.0","method":"ping","params":{},"id":"a"},
 * await listener.close();
 * ```
 */
export type { ChannelListener, MessageChannel, TransportKind } from './channel.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  connectTcp,
  connectTls,
  connectWebSocket,
  type ConnectLimits,
  type TcpConnectOptions,
  type TlsConnectOptions,
} from './connect.js';
export { CallFailedError, RemoteError, RpcError, RpcErrorCode } from './errors.js';
export {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  TLS_HANDSHAKE_TIMEOUT_MS,
  listenTcp,
  listenTls,
  type ListenOptions,
  type RpcListener,
  type TlsListenOptions,
} from './listen.js';
export { DEFAULT_MAX_FRAME_BYTES, NetstringDecoder, NetstringError, encodeNetstring } from './netstring.js';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT,
  Peer,
  type IncomingCall,
  type MethodHandler,
  type Params,
  type PeerOptions,
} from './peer.js';
export { attachWebSocket, type WebSocketEndpoint, type WebSocketOptions } from './websocket.js';
