/**
 * What every request to the HTTP API passes before a route runs, cheapest first:
 *  1. its `Host` is one the API answers to (421 otherwise): a page whose name was rebound to this
 *     machine's address (DNS rebinding) sends its own name, and is refused;
 *  2. an `Origin`, when sent, is the API's own (403 otherwise): a browser sends it on every
 *     cross-site request, so no web page can use the API from a user's browser;
 *  3. a mutating request declares `Content-Type: application/json` (415 otherwise): an HTML form
 *     can send only urlencoded, multipart or text/plain, so none can post a job or a cancel;
 *  4. `Authorization: Bearer <token>` names a client whose token verifies (401 otherwise; 429
 *     once an address failed too often: `request.ip`, which is the forwarded client's when the
 *     peer is a trusted proxy, see trusted-proxies.ts). `/health` needs no token: it answers only
 *     ok or not.
 * `POST /webhooks/:id` passes checks 1 and 2 only: its URL is its own credential, and its senders
 * (GitHub, a payment provider) post whatever content type they use; http-webhooks.ts guards it.
 * Scopes (what the client may do) are checked by the routes, which know the function concerned.
 */
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { credentialOf, type ApiClient } from '@drover/core';
import type { Authenticate } from './auth/authenticate.js';
import { errorBody } from './http-errors.js';

/** Names the API answers to whatever it is bound to. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
/** Routes open without a token. */
const PUBLIC_PATHS = new Set(['/health']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A webhook's URL (http-webhooks.ts): no token, any content type. */
const WEBHOOK_PATH = /^\/webhooks\/[^/]*$/;

export interface GuardOptions {
  authenticate: Authenticate;
  /** Host names the API answers to besides loopback and IP addresses (DROVER_HTTP_ALLOWED_HOSTS, the bound host). */
  allowedHosts?: readonly string[];
}

/** The client a request authenticated as; set by the guard before any route runs. */
const clients = new WeakMap<FastifyRequest, ApiClient>();

/** The request's client. Every route but /health runs after the guard, so it is always there. */
export function clientOf(request: FastifyRequest): ApiClient {
  const client = clients.get(request);
  if (!client) throw new Error('no authenticated client on this request');
  return client;
}

/** `example.com:8080` → `example.com`; `[::1]:80` → `[::1]`; lower case. */
function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  return lower.split(':')[0] ?? '';
}

/** A name as a Host header carries it: IPv6 addresses in brackets. */
function asHostName(name: string): string {
  const lower = name.trim().toLowerCase();
  return isIP(lower) === 6 ? `[${lower}]` : lower;
}

/**
 * Whether the API answers to this Host. Any IP address is accepted: DNS rebinding needs a name,
 * and an operator who binds 0.0.0.0 is reached by the machine's addresses. Names must be listed.
 */
function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (!host) return false;
  const name = hostName(host);
  if (allowed.has(name)) return true;
  const bare = name.startsWith('[') ? name.slice(1, -1) : name;
  return isIP(bare) !== 0;
}

function refuse(reply: FastifyReply, status: number, message: string, field?: string): FastifyReply {
  return reply.code(status).send(errorBody(message, field));
}

/** Why a request from a browser's reach is refused: its status, message and the header at fault. */
export interface BrowserRefusal {
  status: 421 | 403;
  message: string;
  field: 'host' | 'origin';
}

/**
 * Checks 1 and 2 above, for the HTTP routes and for the JSON-RPC WebSocket upgrade on the same
 * port (which never reaches Fastify's hooks): null when the request may go on.
 */
export function createBrowserGuard(allowedHosts: readonly string[] = []): (headers: { host?: string | undefined; origin?: string | undefined }) => BrowserRefusal | null {
  const allowed = new Set([...LOOPBACK_NAMES, ...allowedHosts.map(asHostName)]);
  return ({ host, origin }) => {
    if (!hostAllowed(host, allowed)) {
      return { status: 421, message: `this API does not answer to the host ${JSON.stringify(host ?? '')}; add it to DROVER_HTTP_ALLOWED_HOSTS`, field: 'host' };
    }
    if (origin !== undefined && !sameOrigin(origin, host!)) {
      return { status: 403, message: 'cross-origin requests are refused: the API takes no requests from web pages of other origins', field: 'origin' };
    }
    return null;
  };
}

/** Installs the guard as the API's first hook. */
export function installGuard(app: FastifyInstance, options: GuardOptions): void {
  const browserGuard = createBrowserGuard(options.allowedHosts);
  app.addHook('onRequest', async (request, reply) => {
    const refused = browserGuard(request.headers);
    if (refused) return refuse(reply, refused.status, refused.message, refused.field);
    const path = request.url.split('?')[0]!;
    if (request.method === 'POST' && WEBHOOK_PATH.test(path)) return undefined;
    if (!SAFE_METHODS.has(request.method)) {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        return refuse(reply, 415, 'a request that changes something must be sent as application/json (send {} when there is nothing to say)', 'content-type');
      }
    }
    if (PUBLIC_PATHS.has(path)) return undefined;
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    const credential = match ? credentialOf(match[1]!) : null;
    if (!credential) {
      void reply.header('www-authenticate', 'Bearer realm="drover"');
      return refuse(reply, 401, 'send Authorization: Bearer <token> (a token from `drover clients add`, or <who>:<token>)', 'authorization');
    }
    const result = await options.authenticate({ ...credential, method: 'password', address: request.ip });
    if (!result.ok) {
      if (result.retryAfterMs !== undefined) {
        void reply.header('retry-after', String(Math.ceil(result.retryAfterMs / 1000)));
        return refuse(reply, 429, result.reason, 'authorization');
      }
      void reply.header('www-authenticate', 'Bearer realm="drover", error="invalid_token"');
      return refuse(reply, 401, result.reason, 'authorization');
    }
    clients.set(request, result.client);
    return undefined;
  });
}

/** Whether an Origin header names the API itself (same scheme, host and port as the request's Host). */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && url.host === new URL(`http://${host}`).host;
  } catch {
    // `null` (a sandboxed page, a file) or garbage: not this API.
    return false;
  }
}
