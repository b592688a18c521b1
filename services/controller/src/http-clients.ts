/**
 * The API client registry over HTTP, for administrators (the admin scope only), so that
 * `drover clients …` works against an embedded instance, whose database only its own process opens:
 *   GET /clients                 every client, never a hash
 *   POST /clients                { who, token?, call?, work?, admin?, certificateCn? } → 201 { client, token } (the token, once)
 *   POST /clients/:who/rotate    { token? } → { client, token }
 *   DELETE /clients/:who         {} → { who, removed: true }
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError, authorizes, type ApiClientStore, type NewApiClient } from '@drover/core';
import { clientOf } from './http-guard.js';
import { isObject } from './http-checks.js';
import { HttpRefusal, errorBody } from './http-errors.js';


function requireAdmin(request: FastifyRequest): void {
  if (!authorizes(clientOf(request), 'admin')) throw new HttpRefusal(403, 'only a client with the admin scope may manage clients');
}

/** `{ token? }` and nothing else. */
function parseRotateBody(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (!isObject(body)) throw new ValidationError('body', 'must be {} or { "token": "…" }');
  const extra = Object.keys(body).find((k) => k !== 'token');
  if (extra !== undefined) throw new ValidationError(extra, 'is not a field of a rotation, which is { "token"?: "…" }');
  if (body.token !== undefined && typeof body.token !== 'string') throw new ValidationError('token', 'must be a string');
  return body.token;
}

/** Adds the client routes. */
export function clientRoutes(app: FastifyInstance, clients: ApiClientStore): void {
  app.get('/clients', async (request) => {
    requireAdmin(request);
    return clients.list();
  });

  app.post('/clients', async (request, reply) => {
    requireAdmin(request);
    if (!isObject(request.body)) throw new ValidationError('body', 'must be a client object: { "who": …, "call"?: [...], "work"?: [...], "admin"?: bool, "token"?: …, "certificateCn"?: … }');
    // The store checks every field, naming it, before writing anything.
    return reply.code(201).send(await clients.add(request.body as unknown as NewApiClient));
  });

  app.post<{ Params: { who: string } }>('/clients/:who/rotate', async (request, reply) => {
    requireAdmin(request);
    const issued = await clients.rotate(request.params.who, parseRotateBody(request.body));
    return issued ?? reply.code(404).send(errorBody(`no client ${request.params.who}`));
  });

  app.delete<{ Params: { who: string } }>('/clients/:who', async (request, reply) => {
    requireAdmin(request);
    const removed = await clients.remove(request.params.who);
    return removed ? { who: request.params.who, removed } : reply.code(404).send(errorBody(`no client ${request.params.who}`));
  });
}
