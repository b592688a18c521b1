/**
 * Listeners for the netstring transports: plain TCP and TLS (JobCenter serves both, on two ports).
 * Each accepted connection becomes a {@link MessageChannel} handed to `onChannel`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { silentLogger, type Logger } from '@drover/core';
import type { MessageChannel } from './channel.js';
import { createSocketChannel } from './internal/socket-channel.js';
import { DEFAULT_MAX_FRAME_BYTES } from './netstring.js';

/**
 * 16 MiB unsent for one peer: sixteen full frames. A client that reads nothing while we keep
 * writing (task_ready, job_done) is dropped instead of growing the server's memory.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** After close(), 2 s for a peer to take our last message and hang up before it is cut off: ample on any network that works at all. */
export const DEFAULT_CLOSE_GRACE_MS = 2_000;
/**
 * A TLS handshake not done in 10 s is dropped (Node's default is 120 s): a real client completes
 * it in a few round trips, and an unfinished handshake holds a socket without saying hello.
 */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ListenOptions {
  /** Address to bind; 127.0.0.1 unless given. */
  host?: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Called with each new connection; it must call `channel.listen` in the same tick. */
  onChannel: (channel: MessageChannel) => void;
  maxFrameBytes?: number;
  maxBufferedBytes?: number;
  closeGraceMs?: number;
  logger?: Logger;
}

export interface TlsListenOptions extends ListenOptions {
  /** PEM certificate chain and private key of the server. */
  cert: string | Buffer;
  key: string | Buffer;
  /**
   * PEM CA that signs client certificates. Given, clients are asked for a certificate; one that
   * this CA verifies makes its CN available to authentication. A client without one (or with one
   * the CA does not verify) still connects and may authenticate with a token.
   */
  clientCa?: string | Buffer;
}

/** A listening transport. */
export interface RpcListener {
  readonly host: string;
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** Stops accepting and cuts off the connections still open; resolves once all are gone. */
  close(): Promise<void>;
}

/** Listens for JSON-RPC over netstrings on plain TCP. */
export function listenTcp(options: ListenOptions): Promise<RpcListener> {
  const server = createServer();
  server.on('connection', (socket) => accept(socket, 'tcp', undefined, options));
  return bind(server, options);
}

/** Listens for JSON-RPC over netstrings inside TLS. */
export function listenTls(options: TlsListenOptions): Promise<RpcListener> {
  const log = (options.logger ?? silentLogger).child({ transport: 'tls' });
  const server = createTlsServer({
    cert: options.cert,
    key: options.key,
    ...(options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
  });
  server.on('secureConnection', (socket: TLSSocket) => accept(socket, 'tls', options.clientCa ? verifiedCn(socket) : undefined, options));
  server.on('tlsClientError', (err, socket) => log.debug({ err: err.message, address: socket.remoteAddress }, 'TLS handshake failed'));
  return bind(server, options);
}

/** The CN of a client certificate that the configured CA verified; nothing otherwise. */
function verifiedCn(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  // A certificate with several CNs names no one client: it gets none.
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

function accept(socket: Socket, transport: 'tcp' | 'tls', certificateCn: string | undefined, options: ListenOptions): void {
  const channel = createSocketChannel(socket, {
    transport,
    certificateCn,
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    closeGraceMs: options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS,
  });
  options.onChannel(channel);
}

function bind(server: Server, options: ListenOptions): Promise<RpcListener> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port }, () => {
      server.off('error', reject);
      // After listening, an error is a failed accept (e.g. out of file descriptors): logged, and the
      // server keeps listening; unheard, it would crash the process.
      const log = (options.logger ?? silentLogger).child({ transport: 'listener', port: options.port });
      server.on('error', (err) => log.error({ err }, 'accepting a connection failed'));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      resolve({
        host,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}
