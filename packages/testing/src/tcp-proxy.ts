/**
 * A TCP proxy that a test controls, to cut one process off from a service without touching the
 * service or any other process: point the process under test at `proxy.url`, then `cut()` to
 * stop every byte in both directions while the sockets stay open (what a dead switch or a
 * dropped route looks like: no FIN, no RST, just silence), `reset()` to drop every connection
 * at once, and `heal()` to let traffic flow again.
 */
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/** A running proxy; see {@link startTcpProxy}. */
export interface TcpProxy {
  /** The target URL with its host and port replaced by the proxy's. */
  readonly url: string;
  readonly port: number;
  /** Connections open now (accepted and not yet closed). */
  readonly connections: number;
  /** Whether traffic is cut now. */
  readonly isCut: boolean;
  /**
   * Stops forwarding in both directions and accepts new connections without forwarding them
   * either; bytes sent meanwhile are dropped, as a partitioned network would. Sockets stay open.
   */
  cut(): void;
  /** Forwards again: for new connections, and for old ones from the next byte on (the dropped bytes stay lost). */
  heal(): void;
  /** Destroys every open connection, as a peer's RST would. */
  reset(): void;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

/**
 * Starts a proxy on 127.0.0.1 (a free port unless `port` is given) in front of the host and port
 * of `targetUrl` (postgres://, amqp://, redis://: anything over TCP).
 */
export async function startTcpProxy(targetUrl: string, options: { port?: number } = {}): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const defaultPorts: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'amqp:': 5672, 'redis:': 6379 };
  const targetPort = Number(target.port) || defaultPorts[target.protocol] || 0;
  const targetHost = target.hostname.replace(/^\[|\]$/g, '');
  const pairs = new Set<Pair>();
  let cut = false;

  const server: Server = createServer((client) => {
    const upstream = new Socket();
    const pair = { client, upstream };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    // Data is forwarded by hand, not piped, so that a cut drops it instead of buffering it for later.
    client.on('data', (chunk: Buffer) => {
      if (!cut) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cut) client.write(chunk);
    });
    upstream.connect(targetPort, targetHost);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const reset = (): void => {
    for (const { client, upstream } of pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  return {
    url: url.toString(),
    port,
    get connections() {
      return pairs.size;
    },
    get isCut() {
      return cut;
    },
    cut() {
      cut = true;
    },
    heal() {
      cut = false;
    },
    reset,
    async close() {
      reset();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
