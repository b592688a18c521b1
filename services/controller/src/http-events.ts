/**
 * `POST /events`: raises an event (`{ type, verb, doc, oldDoc? }`, see @drover/core's event.ts);
 * every enabled `@event` trigger whose selector matches creates its job, all in one transaction.
 * Answers 201 with `{ matched, jobIds }`. Needs the `admin` scope: an event may fire triggers of
 * any function, so raising one is as strong as enqueueing any function; a scope per event type
 * would need scope names apart from function names (which may hold the `:` a type prefix would
 * use), and is left for when a producer that is no admin needs to raise events.
 */
import type { FastifyInstance } from 'fastify';
import { authorizes, type DroverEvent, type EventStore } from '@drover/core';
import { HttpRefusal } from './http-errors.js';
import { clientOf } from './http-guard.js';

export function eventRoutes(app: FastifyInstance, store: Pick<EventStore, 'raiseEvent'>): void {
  app.post('/events', async (request, reply) => {
    if (!authorizes(clientOf(request), 'admin')) throw new HttpRefusal(403, 'only a client with the admin scope may raise events');
    // The store validates the whole event, naming the field (type, verb, doc, doc._id…), before it writes.
    return reply.code(201).send(await store.raiseEvent(request.body as DroverEvent));
  });
}
