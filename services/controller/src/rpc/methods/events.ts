/**
 * `raise_event {type, verb, doc, old_doc?}`: a Drover extension to JobCenter's protocol, raising an
 * event (see @drover/core's event.ts) as `POST /events` does: every enabled `@event` trigger whose
 * selector matches creates its job, in one transaction. Answers `{matched, job_ids}` (job ids as
 * numbers, as every method sends them). Admin only, as over HTTP (http-events.ts says why); a
 * client without it is refused with -32001 and nothing is written. A bad parameter is a -32001
 * error naming it, as the caller spelled it (`doc._id`, `old_doc`).
 */
import { ValidationError, authorizes, type ApiClient, type DroverEvent, type EventStore } from '@drover/core';
import { RpcError, RpcErrorCode } from '@drover/jsonrpc';
import { wireJobId } from '../remote/remote-worker.js';
import type { SessionMethod } from '../session.js';

const PARAMS = new Set(['type', 'verb', 'doc', 'old_doc']);

/** `raise_event` for the method table. */
export function eventMethods(store: Pick<EventStore, 'raiseEvent'>): Record<string, SessionMethod<ApiClient>> {
  return {
    raise_event: async (params, session) => {
      if (!authorizes(session.client, 'admin')) {
        throw new RpcError(RpcErrorCode.BadParameter, `raise_event: client ${session.who} may not raise events (it needs the admin scope)`);
      }
      const extra = Object.keys(params).find((k) => !PARAMS.has(k));
      if (extra !== undefined) throw new ValidationError(extra, 'is not a parameter of raise_event, which takes type, verb, doc and old_doc');
      const event = { type: params.type, verb: params.verb, doc: params.doc, ...(params.old_doc === undefined ? {} : { oldDoc: params.old_doc }) } as DroverEvent;
      try {
        const raised = await store.raiseEvent(event);
        return { matched: raised.matched, job_ids: raised.jobIds.map(wireJobId) };
      } catch (err) {
        // The store names the event's fields; the wire's one differs in spelling.
        if (err instanceof ValidationError && err.field.startsWith('oldDoc')) {
          throw new ValidationError(err.field.replace(/^oldDoc/, 'old_doc'), err.message.replace(`${err.field}: `, ''), { cause: err });
        }
        throw err;
      }
    },
  };
}
