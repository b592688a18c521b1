/**
 * `POST /webhooks/:id`: a `@webhook` trigger's URL, the one route whose URL is its own credential.
 * It needs no token and takes any content type (the guard lets it through after the Host and
 * Origin checks; see http-guard.ts), so what protects it is here:
 *  - the id is 192 random bits, and every unknown or disabled id, like every bad signature, counts
 *    as a failure against the sender's address in the API's FailureThrottle: after ten a minute the
 *    address is refused (429) without a lookup, so ids cannot be guessed by brute force;
 *  - a trigger with a secret needs `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the
 *    raw body under the secret (GitHub's scheme), compared in constant time;
 *  - the body is read raw and bounded (256 KiB by default; 413 past it), before anything is looked up.
 * A refused request writes nothing. An accepted one answers 202 with the job's id (null while
 * debounced); the id tells the sender nothing it could use without an API token.
 * The body reaches the job as `arg.webhook.body`: parsed when its Content-Type is JSON
 * (`application/json` or `*+json`), else its text, decoded as UTF-8.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ValidationError, type EventStore, type WebhookDelivery } from '@drover/core';
import type { FailureThrottle } from './auth/throttle.js';
import { errorBody } from './http-errors.js';

/**
 * A webhook's body limit: 256 KiB holds any GitHub, GitLab or Stripe event payload we know of
 * (GitHub caps its own at 25 MiB but sends far less for all but huge pushes), and keeps one job's
 * arg small; configurable for senders that need more.
 */
export const DEFAULT_WEBHOOK_BODY_LIMIT = 256 * 1024;

/** The signature header, in Node's lower case. */
const SIGNATURE_HEADER = 'x-hub-signature-256';
const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

export interface WebhookRouteOptions {
  store: Pick<EventStore, 'webhookTarget' | 'fireWebhook'>;
  /**
   * Failures (unknown id, disabled trigger, bad signature) are counted here, per address: a
   * throttle of the webhooks' own, so that posts to webhook URLs, which anyone can make a service
   * send, never block an address's API tokens or hellos (nor the reverse).
   */
  throttle: FailureThrottle;
  /** Bodies above this many bytes are refused with 413. */
  bodyLimit?: number;
}

/** Whether `header` is the HMAC-SHA256 of `body` under `secret`, compared in constant time. */
export function signatureValid(secret: string, body: Buffer, header: string | string[] | undefined): boolean {
  const match = typeof header === 'string' ? SIGNATURE.exec(header.trim()) : null;
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  // Both are 32 bytes (the pattern fixes 64 hex digits), as timingSafeEqual requires.
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}

/** The delivery a job carries: a JSON body parsed (a 400 naming `body` when it is not JSON), any other its text. */
function deliveryOf(raw: Buffer, contentTypeHeader: string | undefined): WebhookDelivery {
  const contentType = contentTypeHeader ?? '';
  const mediaType = contentType.split(';')[0]!.trim();
  const text = raw.toString('utf8');
  if (!JSON_TYPE.test(mediaType)) return { contentType, body: text };
  try {
    return { contentType, body: text === '' ? null : (JSON.parse(text) as unknown) };
  } catch (err) {
    throw new ValidationError('body', `is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Registers the route in a scope of its own, whose body parser keeps every content type raw. */
export function webhookRoutes(app: FastifyInstance, options: WebhookRouteOptions): void {
  const bodyLimit = options.bodyLimit ?? DEFAULT_WEBHOOK_BODY_LIMIT;
  const { store, throttle } = options;

  /** Counts a failure; once the address is blocked, its failures are answered 429 (they learn nothing more). */
  const refuse = async (reply: FastifyReply, address: string, status: number, message: string, field?: string): Promise<FastifyReply> => {
    const blockedMs = await throttle.failed(address);
    if (blockedMs > 0) {
      void reply.header('retry-after', String(Math.ceil(blockedMs / 1000)));
      return reply.code(429).send(errorBody('too many failed webhook requests from this address; try again later', field));
    }
    return reply.code(status).send(errorBody(message, field));
  };

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // The signature is over the bytes as sent, so nothing may parse them first.
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
    scope.post<{ Params: { id: string } }>('/webhooks/:id', { bodyLimit }, async (request, reply) => {
      const address = request.ip;
      const { id } = request.params;
      // The block applies to failures only: a sender whose address was blocked (a shared one, such
      // as a SaaS's, by someone posting garbage ids to it) still delivers to a real, enabled id
      // with a valid signature. Guessing a 192-bit id gains nothing from the extra lookups.
      const target = await store.webhookTarget(id);
      // A disabled trigger answers as an unknown one: the sender learns nothing about either.
      if (!target?.enabled) return refuse(reply, address, 404, 'no such webhook', 'id');
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (target.secret !== null && !signatureValid(target.secret, raw, request.headers[SIGNATURE_HEADER])) {
        return refuse(reply, address, 401, 'send X-Hub-Signature-256: sha256=<hex>, the HMAC-SHA256 of the body under the webhook\'s secret', SIGNATURE_HEADER);
      }
      const fired = await store.fireWebhook(id, deliveryOf(raw, request.headers['content-type']));
      // Disabled or deleted between the lookup and the fire.
      if (!fired.found) return refuse(reply, address, 404, 'no such webhook', 'id');
      return reply.code(202).send({ jobId: fired.jobId });
    });
  });
}
