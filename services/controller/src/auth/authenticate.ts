/**
 * Who is calling: one function for every entry point of the API (the HTTP API's bearer tokens,
 * the JSON-RPC `hello` with a token or a client certificate), so that each checks credentials the
 * same way and repeated failures from one address slow down wherever they come from.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { ApiClient, ApiClientStore } from '@drover/core';
import type { FailureThrottle } from './throttle.js';

/**
 * Credential checks in flight per address. The throttle counts a failure only once its check
 * ended, so without a bound a burst of guesses sent at once would all be checked before the first
 * failure counted; with it, an address has at most this many slow-hash checks running, and each
 * queued one looks at the throttle again before it runs. Legitimate bursts wait their turn (a token
 * that verified once is cached, so their checks are quick), they are not refused.
 */
const CHECKS_PER_ADDRESS = 2;

/** What a caller presents. JobCenter's `hello` sends `who`, `method` and `token`. */
export interface Credentials {
  who: string;
  /** `password` (a token; JobCenter's default) or `clientcert` (the TLS peer's certificate). */
  method: string;
  token?: string;
  /** The CN of the client certificate the TLS layer verified; absent without one. */
  certificateCn?: string;
  /** The caller's address, whose failures are counted. */
  address: string;
}

/** The answer: the client, or why not (a reason safe to send to the caller: it never says whether the name exists). */
export type AuthResult<TClient = ApiClient> =
  | { ok: true; client: TClient }
  | { ok: false; reason: string; /** Set when the address is blocked: how long until it may try again, ms. */ retryAfterMs?: number };

export type Authenticate<TClient = ApiClient> = (credentials: Credentials) => Promise<AuthResult<TClient>>;

const REFUSED = 'who or token is wrong';

/** Builds the authenticate function on a client registry and a failure throttle. */
export function createAuthenticator(clients: Pick<ApiClientStore, 'verifyToken' | 'byCertificateCn'>, throttle: FailureThrottle): Authenticate {
  const blocked = (ms: number): AuthResult => ({ ok: false, reason: `too many failed attempts from this address; try again in ${Math.ceil(ms / 1000)} s`, retryAfterMs: ms });
  const fail = async (address: string, reason: string): Promise<AuthResult> => {
    const ms = await throttle.failed(address);
    return ms > 0 ? blocked(ms) : { ok: false, reason };
  };

  const perAddress = new Map<string, LimitFunction>();
  const inTurn = async <T>(address: string, check: () => Promise<T>): Promise<T> => {
    let limit = perAddress.get(address);
    if (!limit) perAddress.set(address, (limit = pLimit(CHECKS_PER_ADDRESS)));
    try {
      return await limit(check);
    } finally {
      // Idle addresses are forgotten, so the map holds only addresses with checks under way.
      if (limit.activeCount === 0 && limit.pendingCount === 0) perAddress.delete(address);
    }
  };

  return (credentials) => inTurn(credentials.address, () => check(credentials));

  async function check({ who, method, token, certificateCn, address }: Credentials): Promise<AuthResult> {
    const wait = await throttle.blockedFor(address);
    if (wait > 0) return blocked(wait);
    if (method === 'clientcert') {
      const client = certificateCn ? await clients.byCertificateCn(certificateCn) : null;
      // The certificate speaks for one client: a hello naming another is refused.
      if (client && client.who === who) return { ok: true, client };
      return fail(address, certificateCn ? 'the client certificate does not belong to that client' : 'no verified client certificate on this connection');
    }
    if (method !== 'password') return { ok: false, reason: `unknown authentication method ${JSON.stringify(String(method)).slice(0, 40)}; use password or clientcert` };
    if (typeof token !== 'string' || token === '') return fail(address, 'a token is required');
    const client = await clients.verifyToken(who, token);
    return client ? { ok: true, client } : fail(address, REFUSED);
  }
}
