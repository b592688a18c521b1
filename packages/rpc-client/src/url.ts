/**
 * Where the API is, as one URL: `tcp://host:6522`, `tls://host:port`, `ws://host:8080/rpc` or
 * `wss://…`. A bad URL is refused here, before any connection is tried, with an error naming `url`.
 */
import { ValidationError } from '@drover/core';

/** JobCenter's port, which Drover's controller keeps. */
export const DEFAULT_TCP_PORT = 6522;
/** The controller serves WebSocket JSON-RPC at this path of its HTTP port. */
export const DEFAULT_WEBSOCKET_PATH = '/rpc';

/** A parsed API address. */
export type ApiAddress = { transport: 'tcp' | 'tls'; host: string; port: number } | { transport: 'websocket'; url: string };

/** Parses an API URL; throws a {@link ValidationError} on `url` when it is not one. */
export function parseApiUrl(raw: unknown): ApiAddress {
  if (typeof raw !== 'string' || raw === '') throw new ValidationError('url', 'must be a URL such as tcp://127.0.0.1:6522, tls://host:port or ws://host:8080/rpc');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError('url', `"${raw.slice(0, 200)}" is not a URL (try tcp://127.0.0.1:6522)`);
  }
  // URL keeps IPv6 hosts in brackets; sockets want them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new ValidationError('url', 'must name a host');
  switch (url.protocol) {
    case 'tcp:':
    case 'tls:': {
      if (url.pathname !== '' && url.pathname !== '/') throw new ValidationError('url', `a ${url.protocol}// URL has no path (got ${url.pathname.slice(0, 100)})`);
      // TLS has no default port: the controller serves it only where it is configured.
      if (url.port === '' && url.protocol === 'tls:') throw new ValidationError('url', 'a tls:// URL needs a port (the controller\'s DROVER_RPC_TLS_PORT)');
      const port = url.port === '' ? DEFAULT_TCP_PORT : Number(url.port);
      return { transport: url.protocol === 'tcp:' ? 'tcp' : 'tls', host, port };
    }
    case 'ws:':
    case 'wss:': {
      if (url.pathname === '/' || url.pathname === '') url.pathname = DEFAULT_WEBSOCKET_PATH;
      return { transport: 'websocket', url: url.toString() };
    }
    default:
      throw new ValidationError('url', `unknown scheme ${url.protocol.slice(0, 20)} (use tcp://, tls://, ws:// or wss://)`);
  }
}
