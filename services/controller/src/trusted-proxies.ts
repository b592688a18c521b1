/**
 * Which peers may say who the client is. Behind a reverse proxy every connection comes from the
 * proxy, so the failure throttle, the logs and `get_api_status` would see one address for every
 * client (and one guesser would block them all). A request from a trusted proxy is credited to the
 * address its `X-Forwarded-For` names, as `@fastify/proxy-addr` reads it: walking from the socket's
 * peer back through the header, each hop is believed only while the hop before it was trusted, so a
 * client that writes its own `X-Forwarded-For` through a proxy that appends to it names only itself.
 * A request from any other peer is its socket's address, whatever its headers say. Fastify computes
 * `request.ip` with the same package and the same compiled function (see http.ts), so the HTTP routes
 * and the WebSocket transport cannot disagree.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';
import { ValidationError } from '@drover/core';

/** proxy-addr's names for address ranges, usable as entries. */
export const PROXY_RANGE_NAMES: readonly string[] = ['loopback', 'linklocal', 'uniquelocal'];

/** Whether the peer at `address`, `hop` steps from the socket (0 is the socket's peer), is a trusted proxy. */
export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * Why one entry is not a trusted proxy, or null when it is one: an IP address, a CIDR
 * (`10.0.0.0/8`, `10.0.0.0/255.0.0.0`) or one of {@link PROXY_RANGE_NAMES}. proxy-addr alone would
 * take `1` as the address 0.0.0.1 (ipaddr.js reads a bare number as an IPv4 address), which is what
 * someone meaning Express's hop count would write: addresses must be written out in full here.
 */
function entryProblem(entry: string): string | null {
  if (PROXY_RANGE_NAMES.includes(entry)) return null;
  const slash = entry.lastIndexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  if (isIP(address) === 0) {
    return `${JSON.stringify(entry)} is not an IP address, a CIDR or one of ${PROXY_RANGE_NAMES.join(', ')} (a hop count or a host name is not taken: list the proxies' addresses)`;
  }
  try {
    proxyAddr.compile(entry);
    return null;
  } catch (err) {
    return `${JSON.stringify(entry)}: ${(err as Error).message}`;
  }
}

/** Why a list of trusted proxies is refused, or null when every entry is good. */
export function trustedProxiesProblem(entries: readonly string[]): string | null {
  if (entries.length === 0) return 'must name at least one proxy (leave it unset to trust none)';
  for (const entry of entries) {
    if (entry === '') return 'has an empty entry; separate addresses with single commas';
    const problem = entryProblem(entry);
    if (problem) return problem;
  }
  return null;
}

/**
 * Compiles a list of trusted proxies once, for every request to test against. A bad entry is a
 * {@link ValidationError} naming `field` (the setting it came from).
 */
export function compileTrustedProxies(entries: readonly string[], field: string): TrustProxy {
  const problem = trustedProxiesProblem(entries);
  if (problem) throw new ValidationError(field, problem);
  return proxyAddr.compile([...entries]);
}

/**
 * The client's address of a request (a WebSocket upgrade, which Fastify never sees): the socket's
 * peer, or what trusted proxies in front of it say. 'unknown' when the socket is already gone.
 */
export function clientAddress(request: IncomingMessage, trust: TrustProxy): string {
  const address = proxyAddr(request, trust) as string | undefined;
  return address ?? request.socket.remoteAddress ?? 'unknown';
}
