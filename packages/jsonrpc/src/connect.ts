/**
 * The client ends of the three transports: a {@link MessageChannel} to a server over TCP or TLS
 * (netstrings) or WebSocket, with the same framing, size bounds and close behaviour as the
 * server's side. A client wraps it in a {@link Peer}.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import WebSocket from 'ws';
import type { MessageChannel } from './channel.js';
import { createSocketChannel } from './internal/socket-channel.js';
import { DEFAULT_CLOSE_GRACE_MS, DEFAULT_MAX_BUFFERED_BYTES } from './listen.js';
import { DEFAULT_MAX_FRAME_BYTES } from './netstring.js';
import { wrapWebSocket } from './websocket.js';

/**
 * 10 s to connect (and, for TLS and WebSocket, to finish the handshake): a server that answers
 * at all does so in a few round trips, and a reconnecting client should move on to its next try.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Bounds shared by every client transport. */
export interface ConnectLimits {
  connectTimeoutMs?: number;
  /** The largest frame or message taken from the server. */
  maxFrameBytes?: number;
  maxBufferedBytes?: number;
  closeGraceMs?: number;
}

export interface TcpConnectOptions extends ConnectLimits {
  host: string;
  port: number;
}

/** TLS: Node's `tls.connect` options (a CA to trust, a client certificate and key, `servername`, …). */
export interface TlsConnectOptions extends TcpConnectOptions {
  tls?: Omit<ConnectionOptions, 'host' | 'port' | 'socket'>;
}

/** Connects over TCP with netstring framing; resolves once connected. */
export function connectTcp(options: TcpConnectOptions): Promise<MessageChannel> {
  const socket = netConnect({ host: options.host, port: options.port });
  return whenOpen(socket, 'connect', 'tcp', options);
}

/** Connects over TLS with netstring framing; resolves once the handshake is done and the server verified. */
export function connectTls(options: TlsConnectOptions): Promise<MessageChannel> {
  const socket = tlsConnect({ servername: isIp(options.host) ? undefined : options.host, ...options.tls, host: options.host, port: options.port });
  return whenOpen(socket, 'secureConnect', 'tls', options);
}

/** Connects over WebSocket (`ws://` or `wss://`); resolves once open. */
export function connectWebSocket(url: string, options: ConnectLimits & { tls?: Omit<ConnectionOptions, 'host' | 'port' | 'socket'> } = {}): Promise<MessageChannel> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, ...options.tls });
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`cannot connect to ${url}: ${err.message}`, { cause: err }));
    ws.once('error', onError);
    ws.once('open', () => {
      ws.off('error', onError);
      resolve(wrapWebSocket(ws, url, options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES, options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS));
    });
  });
}

function whenOpen(socket: Socket, event: 'connect' | 'secureConnect', transport: 'tcp' | 'tls', options: TcpConnectOptions): Promise<MessageChannel> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const where = `${transport}://${options.host}:${options.port}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`cannot connect to ${where}: no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`cannot connect to ${where}: ${err.message}`, { cause: err }));
    };
    socket.once('error', onError);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(
        createSocketChannel(socket, {
          transport,
          maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
          maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
          closeGraceMs: options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS,
        }),
      );
    });
  });
}

/** SNI carries host names only: Node warns when it is given an IP address. */
function isIp(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}
