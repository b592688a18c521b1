/**
 * The remote worker's half of the client: what this client announced (so that a new connection
 * can announce it again), and each task's cycle: `task_ready` → `get_task` → the handler →
 * `task_done` on the connection that handed out the cookie.
 *
 * The slot budget is the server's: it sends `task_ready` only while the slot group has a free slot,
 * so the client runs every task it is offered.
 */
import { PermanentFailure, ValidationError, type Json, type Logger } from '@drover/core';
import type { Params, Peer } from '@drover/jsonrpc';

/** What a handler learns about its task besides the inargs. */
export interface TaskInfo {
  /** The job's id, as a decimal string. */
  jobId: string;
  actionname: string;
}

/**
 * Runs one task: takes the job's inargs and returns its outargs. An object is sent as it is; no
 * value (undefined or null) as `{}`; any other value as `{"result": value}`. A thrown
 * {@link FatalError} fails the job for good; any other error is a failed attempt (retried under
 * the function's retry policy).
 */
export type TaskHandler = (inargs: Record<string, Json>, task: TaskInfo) => unknown;

/** How an action is worked. */
export interface WorkOptions {
  /** Tasks of this action at once, in a slot group of its own (default 1). */
  slots?: number;
  /** A slot group made with `createSlotGroup`, shared with the other actions announced into it. */
  slotgroup?: string;
  /** Only jobs whose inargs contain this object (PostgreSQL's `@>`) are offered. */
  filter?: Record<string, Json>;
  /** A label for this worker in the server's status (default: the client's `who`). */
  workername?: string;
}

interface Action {
  handler: TaskHandler;
  params: Params;
}

/** The worker side of one client, across its connections. */
export class WorkerSide {
  readonly #log: Logger;
  readonly #defaultWorkername: string;
  readonly #slotgroups = new Map<string, number>();
  readonly #actions = new Map<string, Action>();
  /** Handlers running now (close() lets them end, their task_done is then dropped). */
  running = 0;

  constructor(logger: Logger, defaultWorkername: string) {
    this.#log = logger;
    this.#defaultWorkername = defaultWorkername;
  }

  /** Checks and records a slot group; the caller creates it on the connection. */
  addSlotGroup(name: unknown, slots: unknown): Params {
    if (typeof name !== 'string' || name === '' || name.startsWith('_')) throw new ValidationError('name', 'must be a non-empty string not starting with "_"');
    if (typeof slots !== 'number' || !Number.isInteger(slots) || slots < 1) throw new ValidationError('slots', 'must be a positive integer');
    if (this.#slotgroups.has(name)) throw new ValidationError('name', `slot group "${name}" already exists on this client`);
    this.#slotgroups.set(name, slots);
    return { name, slots };
  }

  forgetSlotGroup(name: string): void {
    this.#slotgroups.delete(name);
  }

  /** Checks and records an action; returns the announce parameters. */
  addAction(actionname: unknown, handler: unknown, options: WorkOptions): Params {
    if (typeof actionname !== 'string' || actionname === '') throw new ValidationError('actionname', 'must be a function name');
    if (typeof handler !== 'function') throw new ValidationError('handler', 'must be a function (inargs) => outargs');
    if (this.#actions.has(actionname)) throw new ValidationError('actionname', `"${actionname}" is already worked by this client`);
    const { slots, slotgroup, filter, workername = this.#defaultWorkername } = options;
    if (slots !== undefined && slotgroup !== undefined) throw new ValidationError('slotgroup', 'give slots or slotgroup, not both');
    if (slots !== undefined && (!Number.isInteger(slots) || slots < 1)) throw new ValidationError('slots', 'must be a positive integer');
    if (slotgroup !== undefined && !this.#slotgroups.has(slotgroup)) throw new ValidationError('slotgroup', `no slot group "${slotgroup}": createSlotGroup first`);
    if (filter !== undefined && (filter === null || typeof filter !== 'object' || Array.isArray(filter))) throw new ValidationError('filter', 'must be an object');
    // JobCenter's client sends both keys, the unused one null; the server reads null as absent.
    const params: Params = { workername, actionname, slots: slotgroup === undefined ? (slots ?? 1) : null, slotgroup: slotgroup ?? null, ...(filter ? { filter } : {}) };
    this.#actions.set(actionname, { handler: handler as TaskHandler, params });
    return params;
  }

  forgetAction(actionname: string): boolean {
    return this.#actions.delete(actionname);
  }

  /** Recreates the slot groups and announces every action on a new connection; throws if the server refuses one. */
  async restore(peer: Peer): Promise<void> {
    for (const [name, slots] of this.#slotgroups) await peer.call('create_slotgroup', { name, slots });
    for (const { params } of this.#actions.values()) checkAnnounced(await peer.call('announce', params), String(params.actionname));
  }

  /** A `task_ready` from `peer`: take the task, run it, answer on the same connection. */
  async taskReady(peer: Peer, params: Params): Promise<void> {
    const { actionname, job_id: jobId } = params;
    const action = typeof actionname === 'string' ? this.#actions.get(actionname) : undefined;
    // Withdrawn meanwhile: not taking the offer lets it go to another worker after the offer timeout.
    if (!action) return;
    const answer = await peer.call('get_task', { actionname, job_id: jobId });
    // [] when the offer went elsewhere (timed out, or taken already).
    if (!Array.isArray(answer) || answer.length < 3) return;
    const [id, cookie, inargs] = answer as [unknown, unknown, unknown];
    if (typeof cookie !== 'string') return;
    const task: TaskInfo = { jobId: String(id), actionname: actionname as string };
    this.running += 1;
    let outargs: Record<string, Json>;
    try {
      outargs = toOutargs(await action.handler(isObject(inargs) ? inargs : {}, task));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      // A FatalError (a PermanentFailure) ends the job; anything else is an attempt the retry policy may repeat.
      outargs = { error: { msg, class: err instanceof PermanentFailure ? 'fatal' : 'soft' } };
      this.#log.debug({ jobId: task.jobId, actionname, err: msg }, 'a task failed');
    } finally {
      this.running -= 1;
    }
    // The cookie belongs to the connection that gave it: after a reconnect the server has given the
    // task back already, and the answer would change nothing anywhere.
    if (peer.closed) {
      this.#log.debug({ jobId: task.jobId, actionname }, 'the connection closed while a task ran; its outcome is dropped (the server gave the task back)');
      return;
    }
    await peer.notify('task_done', { cookie, outargs });
  }
}

/** An announce answers [true, "success"], or [false, reason] when the server cannot take it now. */
export function checkAnnounced(answer: unknown, actionname: string): void {
  if (Array.isArray(answer) && answer[0] === true) return;
  const reason = Array.isArray(answer) && typeof answer[1] === 'string' ? answer[1] : JSON.stringify(answer);
  throw new Error(`announce ${actionname}: ${reason}`);
}

/** Outargs are an object: a handler's other values are wrapped (the server then stores them as the job's result). */
function toOutargs(value: unknown): Record<string, Json> {
  if (value === undefined || value === null) return {};
  if (isObject(value)) return value;
  return { result: value as Json };
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
