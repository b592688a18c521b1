/**
 * The WebSocket transport: one JSON-RPC message per text message, served by the `ws` library on an
 * existing Node HTTP server's `upgrade` event, so it shares the HTTP API's port.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ChannelListener, MessageChannel } from './channel.js';
import { decodeUtf8 } from './internal/utf8.js';
import { DEFAULT_CLOSE_GRACE_MS, DEFAULT_MAX_BUFFERED_BYTES } from './listen.js';
import { DEFAULT_MAX_FRAME_BYTES } from './netstring.js';

export interface WebSocketOptions {
  /** The HTTP server whose upgrades to `path` become JSON-RPC connections. */
  server: Server;
  /** The path served, e.g. `/rpc`; an upgrade to any other path is answered 404. */
  path: string;
  onChannel: (channel: MessageChannel) => void;
  /**
   * Checks an upgrade before it is accepted (the HTTP server's own request hooks never see one):
   * a refusal is answered with its status and the socket closed. A browser lets any page open a
   * WebSocket to any address, so the server must refuse foreign Origin and Host headers here.
   */
  verify?: (request: IncomingMessage) => { status: number; message: string } | null;
  /**
   * The client's address of an accepted upgrade, as the channel reports it (for throttling and
   * logs): behind a reverse proxy, the address its forwarding headers name, when the server trusts
   * that proxy. The socket's peer by default.
   */
  clientAddress?: (request: IncomingMessage) => string;
  /** The largest message taken (the same bound as a netstring frame's by default). */
  maxMessageBytes?: number;
  maxBufferedBytes?: number;
  closeGraceMs?: number;
}

/** A WebSocket endpoint attached to an HTTP server. */
export interface WebSocketEndpoint {
  /** Detaches from the HTTP server and cuts off the connections still open. */
  close(): Promise<void>;
}

/** RFC 6455 close codes used here. */
const NORMAL_CLOSURE = 1000;
const UNSUPPORTED_DATA = 1003;

/** Serves JSON-RPC over WebSocket at `options.path` of `options.server`. */
export function attachWebSocket(options: WebSocketOptions): WebSocketEndpoint {
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes ?? DEFAULT_MAX_FRAME_BYTES });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let pathname: string;
    try {
      pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    } catch {
      pathname = '';
    }
    if (pathname !== options.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const refused = options.verify?.(request);
    if (refused) {
      const body = JSON.stringify({ error: { message: refused.message } });
      socket.end(`HTTP/1.1 ${refused.status} Refused\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    const address = options.clientAddress ? options.clientAddress(request) : (request.socket.remoteAddress ?? 'unknown');
    wss.handleUpgrade(request, socket, head, (ws) => options.onChannel(wrapWebSocket(ws, address, maxBuffered, closeGraceMs)));
  };
  options.server.on('upgrade', onUpgrade);

  return {
    close: () =>
      new Promise<void>((resolve) => {
        options.server.off('upgrade', onUpgrade);
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

/**
 * A {@link MessageChannel} over an open WebSocket (either end). Messages that arrive before
 * `listen` is called are held for it: a client's first message (the server's greeting) may come
 * in the same packet as the upgrade's answer.
 */
export function wrapWebSocket(ws: WebSocket, remoteAddress: string, maxBuffered: number, closeGraceMs: number): MessageChannel {
  let listener: ChannelListener | null = null;
  let closeReason: string | null = null;
  const early: (string | null)[] = [];
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      closeReason ??= 'a binary message (JSON-RPC travels as text)';
      ws.close(UNSUPPORTED_DATA, 'JSON-RPC messages are text');
      return;
    }
    if (ws.readyState !== ws.OPEN) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : new Uint8Array(data);
    const text = decodeUtf8(bytes);
    if (listener) listener.message(text);
    else early.push(text);
  });
  ws.on('error', (err) => {
    closeReason ??= `websocket error: ${err.message}`;
  });
  ws.on('close', (code, reason) => {
    listener?.close(closeReason ?? `the peer closed the connection (${code}${reason.length ? ` ${reason.toString('utf8').slice(0, 100)}` : ''})`);
  });
  return {
    transport: 'websocket',
    remoteAddress,
    certificateCn: undefined,
    listen(next) {
      if (listener) throw new Error('a channel has one listener');
      listener = next;
      for (const text of early.splice(0)) next.message(text);
    },
    send(text) {
      if (ws.readyState !== ws.OPEN) return Promise.reject(new Error(`the connection is closed (${closeReason ?? 'closing'})`));
      if (ws.bufferedAmount > maxBuffered) {
        closeReason ??= `the peer does not read: more than ${maxBuffered} bytes wait unsent`;
        ws.terminate();
        return Promise.reject(new Error('the peer does not read what is sent'));
      }
      return new Promise((resolve, reject) => ws.send(text, (err) => (err ? reject(err) : resolve())));
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close(reason) {
      if (ws.readyState === ws.CLOSING || ws.readyState === ws.CLOSED) return;
      closeReason ??= reason;
      ws.close(NORMAL_CLOSURE);
      const timer = setTimeout(() => ws.terminate(), closeGraceMs);
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    },
  };
}
