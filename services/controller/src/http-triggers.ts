/**
 * Triggers over HTTP (docs/triggers.md, "Interfaces"), for operators and for the CLI against an
 * embedded instance:
 *   POST   /triggers                 a trigger (NewTrigger's fields) → 201 the trigger
 *   GET    /triggers?funcname=&limit=&before=                           the triggers, newest first
 *   GET    /triggers/:id             one trigger with its state
 *   GET    /triggers/:id/state       its state alone (next fire, last execution, success, failure)
 *   GET    /triggers/:id/jobs?limit=&before=                            the jobs it created, newest first
 *   PATCH  /triggers/:id             any of its fields → the trigger (a new spec or time zone reschedules it)
 *   DELETE /triggers/:id             {} → { id, deleted: true } (its live jobs run on)
 *   POST   /triggers/:id/launch      {} → 201 { jobId, inserted, trigger }: one of its jobs, now
 *
 * Scopes. A trigger enqueues jobs of its function on the client's behalf, so creating, changing,
 * deleting or launching one needs the `call` scope on its function (and, when a change moves it to
 * another function, on that one too), as enqueueing does. Triggers are not owned by the client
 * that made them: a trigger is a function's standing schedule, which the people who may call that
 * function share and run (cozy-stack's triggers belong to the instance, not to a session), and a
 * trigger owned by a client would be left unmanageable when that client is removed. Reading one
 * (and its state and jobs) needs `call` on its function too; a trigger out of reach is answered as
 * if it did not exist (404), as a job out of reach is. Listing lists the triggers of the functions
 * the client may call. `admin` may do all of it, on every trigger.
 *
 * Every input is parsed before the store writes anything; bad input is a 400 naming the field.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError, authorizes, parseJobId, parseTriggerFilters, type NewTrigger, type Trigger, type TriggerStore } from '@drover/core';
import { isObject, checkEmptyBody, requireCall } from './http-checks.js';
import { HttpRefusal, errorBody } from './http-errors.js';
import { clientOf } from './http-guard.js';

/** A trigger as the API answers it: a webhook trigger also carries the URL that fires it. */
export type TriggerJson = Trigger & { url?: string };


/** A trigger id in the path, refused by name when malformed. */
const triggerId = (raw: string): string => parseJobId(raw, 'id');

/**
 * The URL a POST to which fires a webhook trigger, built from the Host the caller reached this API
 * by (a URL with the bound address would be useless behind a proxy). The id that makes it
 * unguessable is the webhook's (`webhookId`, added with webhook firing); a trigger without one
 * has no URL yet.
 */
function withUrl(trigger: Trigger, request: FastifyRequest): TriggerJson {
  const webhookId = (trigger as Trigger & { webhookId?: unknown }).webhookId;
  if (trigger.type !== 'webhook' || typeof webhookId !== 'string') return trigger;
  return { ...trigger, url: `${request.protocol}://${request.headers.host ?? request.hostname}/webhooks/${encodeURIComponent(webhookId)}` };
}

/** The state part of a trigger: what `GET /triggers/:id/state` answers. */
function stateOf(trigger: Trigger): Pick<Trigger, 'id' | 'enabled' | 'nextFireAt' | 'done' | 'fires' | 'lastFiredAt' | 'lastJobId' | 'lastSuccessAt' | 'lastSuccessJobId' | 'lastFailureAt' | 'lastFailureJobId' | 'lastError'> {
  const { id, enabled, nextFireAt, done, fires, lastFiredAt, lastJobId, lastSuccessAt, lastSuccessJobId, lastFailureAt, lastFailureJobId, lastError } = trigger;
  return { id, enabled, nextFireAt, done, fires, lastFiredAt, lastJobId, lastSuccessAt, lastSuccessJobId, lastFailureAt, lastFailureJobId, lastError };
}

/** A body that must be a JSON object (a trigger, a patch). */
function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (!isObject(body)) throw new ValidationError('body', `must be ${what}`);
  return body;
}



/** Adds the trigger routes. */
export function triggerRoutes(app: FastifyInstance, store: TriggerStore): void {
  /** The trigger, if it exists and the client may reach it; otherwise a 404 that tells nothing more. */
  const reachable = async (request: FastifyRequest, id: string): Promise<Trigger> => {
    const trigger = await store.getTrigger(id);
    if (!trigger || !authorizes(clientOf(request), 'call', trigger.funcname)) throw new HttpRefusal(404, `no trigger ${id}`);
    return trigger;
  };

  app.post('/triggers', async (request, reply) => {
    const body = objectBody(request.body, 'a trigger object: { "spec": …, "funcname": …, "arg"?: …, … }');
    // A funcname that is not a string is left to the store's validation, which names the field.
    if (typeof body.funcname === 'string') requireCall(request, body.funcname, 'create a trigger');
    const trigger = await store.createTrigger(body as unknown as NewTrigger);
    return reply.code(201).send(withUrl(trigger, request));
  });

  app.get('/triggers', async (request) => {
    const query = parseTriggerFilters(request.query as Record<string, unknown>);
    const client = clientOf(request);
    if (query.funcname !== undefined) requireCall(request, query.funcname, 'list its triggers');
    const triggers = await store.listTriggers(query);
    // A page may come back short for a client that may call only some functions: `before` the last id pages on.
    return triggers.filter((t) => authorizes(client, 'call', t.funcname)).map((t) => withUrl(t, request));
  });

  app.get<{ Params: { id: string } }>('/triggers/:id', async (request) => withUrl(await reachable(request, triggerId(request.params.id)), request));

  app.get<{ Params: { id: string } }>('/triggers/:id/state', async (request) => stateOf(await reachable(request, triggerId(request.params.id))));

  app.get<{ Params: { id: string } }>('/triggers/:id/jobs', async (request) => {
    const id = triggerId(request.params.id);
    const page = parseTriggerFilters(request.query as Record<string, unknown>, (f) => f, ['limit', 'before']);
    await reachable(request, id);
    // A trigger moved to another function keeps its older jobs: only those of functions the client may call are shown.
    const client = clientOf(request);
    return (await store.triggerJobs(id, page)).filter((job) => authorizes(client, 'call', job.funcname));
  });

  app.patch<{ Params: { id: string } }>('/triggers/:id', async (request) => {
    const id = triggerId(request.params.id);
    const patch = objectBody(request.body, 'an object of the trigger fields to change, e.g. { "enabled": false }');
    await reachable(request, id);
    if (typeof patch.funcname === 'string') requireCall(request, patch.funcname, 'move a trigger to that function');
    const updated = await store.updateTrigger(id, patch);
    // Deleted between the check and the update.
    if (!updated) throw new HttpRefusal(404, `no trigger ${id}`);
    return withUrl(updated, request);
  });

  app.delete<{ Params: { id: string } }>('/triggers/:id', async (request, reply) => {
    const id = triggerId(request.params.id);
    checkEmptyBody(request.body);
    await reachable(request, id);
    const deleted = await store.deleteTrigger(id);
    return deleted ? { id, deleted } : reply.code(404).send(errorBody(`no trigger ${id}`));
  });

  app.post<{ Params: { id: string } }>('/triggers/:id/launch', async (request, reply) => {
    const id = triggerId(request.params.id);
    checkEmptyBody(request.body);
    await reachable(request, id);
    const launched = await store.launchTrigger(id);
    if (!launched) return reply.code(404).send(errorBody(`no trigger ${id}`));
    return reply.code(launched.inserted ? 201 : 200).send({ ...launched, trigger: withUrl(launched.trigger, request) });
  });
}
