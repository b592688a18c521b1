/**
 * The worker half of JobCenter's protocol: `create_slotgroup`, `announce`, `withdraw`, `get_task`
 * and the notification `task_done`. Parameters are checked here (a bad one is a -32001 naming it,
 * and changes nothing); what they do is the connection's {@link RemoteWorker}'s.
 */
import { FUNCNAME_PATTERN, ValidationError, authorizes, type ApiClient, type Json, type Logger } from '@drover/core';
import type { Params } from '@drover/jsonrpc';
import type { RemoteWorkers } from '../remote/remote-workers.js';
import type { Announcement, GetTaskAnswer } from '../remote/remote-worker.js';
import type { SessionMethod } from '../session.js';
import { numberParam } from './perl-numbers.js';

/** Names of slot groups and workers are labels: short. */
const MAX_NAME_LENGTH = 200;
/** The worker package's own bound on a function's slots. */
const MAX_SLOTS = 10_000;

/** The worker methods, served for the connections' remote workers. */
export function workerMethods(remotes: RemoteWorkers, logger: Logger): Record<string, SessionMethod<ApiClient>> {
  return {
    create_slotgroup: (params, session) => {
      const name = text(params, 'name');
      if (name.startsWith('_')) throw new ValidationError('name', 'must not start with "_" (those name the slot groups of announces with a slot count)');
      const slots = slotCount(params.slots, 'slots');
      if (slots === null) throw new ValidationError('slots', 'is required');
      remotes.of(session.peer, session.who).createSlotGroup(name, slots);
      return '';
    },

    announce: async (params, session) => {
      const announcement = parseAnnounce(params);
      if (!authorizes(session.client, 'work', announcement.actionname)) {
        throw new ValidationError('actionname', `client ${session.who} may not work "${announcement.actionname}"`);
      }
      try {
        await remotes.of(session.peer, session.who).announce(announcement);
        remotes.changed(session.peer);
      } catch (err) {
        if (err instanceof ValidationError) throw err;
        // JobCenter answers [false, reason] when the announcement cannot be stored; ours is the consumer.
        logger.warn({ who: session.who, actionname: announcement.actionname, err: (err as Error).message }, 'announce failed');
        return [false, `cannot announce ${announcement.actionname} now; try again later`];
      }
      return [true, 'success'];
    },

    withdraw: async (params, session) => {
      const actionname = funcname(params, 'actionname');
      const remote = remotes.existing(session.peer);
      if (!remote) throw new ValidationError('actionname', `"${actionname}" is not announced on this connection`);
      await remote.withdraw(actionname);
      remotes.changed(session.peer);
      return true;
    },

    // Never an error once the parameters are sound: JobCenter's client drops a task whose get_task failed.
    get_task: (params, session): GetTaskAnswer => {
      const actionname = funcname(params, 'actionname');
      const jobId = jobIdParam(params.job_id);
      return remotes.existing(session.peer)?.getTask(actionname, jobId) ?? [];
    },

    // A notification: nothing answers it, so a bad one is logged and changes nothing.
    task_done: (params, session) => {
      const { cookie, outargs } = params;
      if (typeof cookie !== 'string' || cookie === '') throw new ValidationError('cookie', 'must be the cookie get_task answered');
      if (!isObject(outargs)) throw new ValidationError('outargs', 'must be an object');
      remotes.existing(session.peer)?.taskDone(cookie, outargs);
      return null;
    },
  };
}

function parseAnnounce(params: Params): Announcement {
  const workername = text(params, 'workername');
  const actionname = funcname(params, 'actionname');
  // JobCenter's client always sends both keys, the unused one as null: null means absent.
  const slots = slotCount(params.slots, 'slots');
  const slotgroup = params.slotgroup ?? null;
  if (slotgroup !== null && (typeof slotgroup !== 'string' || slotgroup === '')) throw new ValidationError('slotgroup', 'must be a slot group name or null');
  if (slots !== null && slotgroup !== null) throw new ValidationError('slotgroup', 'give slots or slotgroup, not both');
  const filter = params.filter ?? null;
  if (filter !== null && !isObject(filter)) throw new ValidationError('filter', 'must be an object (the inargs a task must contain) or null');
  return { workername, actionname, slots, slotgroup, filter: filter && Object.keys(filter).length > 0 ? filter : null };
}

function text(params: Params, field: string): string {
  const value = params[field];
  if (typeof value !== 'string' || value === '') throw new ValidationError(field, 'must be a non-empty string');
  if (value.length > MAX_NAME_LENGTH) throw new ValidationError(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  return value;
}

function funcname(params: Params, field: string): string {
  const value = params[field];
  if (typeof value !== 'string' || !FUNCNAME_PATTERN.test(value)) throw new ValidationError(field, 'must be a function name: 1 to 200 letters, digits or _ . : -');
  return value;
}

/** A slot count, a number or its decimal string (see perl-numbers.ts); null or absent is none. */
function slotCount(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null;
  const slots = numberParam(value);
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) throw new ValidationError(field, `must be an integer from 1 to ${MAX_SLOTS}`);
  return slots;
}

/** A job id as task_ready sent it: a number, or its decimal string. */
function jobIdParam(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && /^[1-9][0-9]{0,18}$/.test(value)) return value;
  throw new ValidationError('job_id', 'must be the job id task_ready sent (a positive whole number or its decimal string)');
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
