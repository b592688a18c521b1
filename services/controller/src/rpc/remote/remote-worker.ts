/**
 * One connection's remote worker: the Drover worker shim, run by the controller on the
 * connection's behalf. Each slot group of the connection (a named one from `create_slotgroup`, or
 * the implicit `_<actionname>` of an action announced with a slot count) is one {@link Worker} of
 * `@drover/worker`, whose handler for each action is "offer the task to the connection and wait
 * for its answer". So the claim with a lease, lease renewal, fencing by the grab token, the
 * outcome writes, retries, the slot budget and shutdown are the worker package's proven code path;
 * this file adds only the protocol: `task_ready`, `get_task`, `task_done`, and giving tasks back.
 *
 * A task's life here: the worker claims the job and calls the handler, which sends
 * `task_ready {actionname, job_id}` and waits. `get_task` takes the offer and hands out a cookie;
 * an offer not taken within the offer timeout is declined (no failure counted) so that it goes
 * elsewhere. `task_done` with the current cookie settles the handler; any other cookie (unknown,
 * already used, or of a task that ended: timed out, lease lost, given back) changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { Decline, ValidationError, type Broker, type Json, type Logger, type WorkerStore } from '@drover/core';
import type { Peer } from '@drover/jsonrpc';
import { createWorker, type Handler, type JobContext, type Worker } from '@drover/worker';
import { jsonContains } from './json-contains.js';
import { taskEnd } from './outargs.js';

/** How remote workers behave; every field has a default. */
export interface RemoteWorkerOptions {
  /** An offer (`task_ready`) not taken by `get_task` within this long is declined and goes elsewhere. Default 10 s, as JobCenter. */
  offerTimeoutMs?: number;
  /**
   * A job that a filtered action's filter does not match is declined until this much later (not
   * counted as a failure), so that it waits for a matching worker instead of circling through the
   * broker. Default {@link DEFAULT_FILTER_RETRY_MS}.
   */
  filterRetryMs?: number;
  /** A fixed delay before a failed remote task is retried; unset: the usual exponential backoff. */
  retryDelayMs?: number;
  /**
   * The lease of a remote task's claim, renewed every third of it while the task is out. It bounds
   * how long the tasks of a controller that died (SIGKILL, a lost host) stay taken before the
   * scheduler takes them back; a controller that stops or loses a connection gives them back at
   * once. Unset: `@drover/worker`'s `DEFAULT_LEASE_MS` (a minute). At least 1 s.
   */
  leaseMs?: number;
  /**
   * When a slot group's set of actions changes (an announce into it, a withdraw), its consumer is
   * replaced; the old one lets its tasks finish for up to this long first, then gives the rest back.
   * Default {@link DEFAULT_DRAIN_MS}.
   */
  drainMs?: number;
}

/** JobCenter gives a worker 10 s to call get_task after task_ready. */
export const DEFAULT_OFFER_TIMEOUT_MS = 10_000;
/**
 * 30 s: a job no connected filter matches comes back to a worker at most twice a minute (no hot
 * loop through the broker), and one whose matching worker announces later waits at most this long.
 */
export const DEFAULT_FILTER_RETRY_MS = 30_000;
/** A minute: most remote tasks finish in it, and re-announcing is rare (workers announce once, at start). */
export const DEFAULT_DRAIN_MS = 60_000;

/** What a remote worker needs of the controller. */
export interface RemoteWorkerDeps {
  store: WorkerStore;
  broker: Broker;
  peer: Peer;
  logger: Logger;
  /** The client's name, for the worker ids in logs. */
  who: string;
  /**
   * Whether another connection of this controller would take a job of this action with this arg
   * now (see {@link RemoteWorker.wouldTake}): then a job this connection's filter does not match
   * is given back at once, for that connection, instead of waiting out the filter delay.
   */
  takenElsewhere?: (actionname: string, arg: Json) => boolean;
  options: Required<Omit<RemoteWorkerOptions, 'retryDelayMs' | 'leaseMs'>> & Pick<RemoteWorkerOptions, 'retryDelayMs' | 'leaseMs'>;
}

/** An announce, checked. */
export interface Announcement {
  workername: string;
  actionname: string;
  /** A slot count for the action's own group; null when `slotgroup` is given. */
  slots: number | null;
  slotgroup: string | null;
  filter: Record<string, Json> | null;
}

/** A task out on a connection, as `get_api_status` shows it. */
export interface TaskSnapshot {
  jobId: string;
  actionname: string;
  workername: string;
  /** When the task was offered (`task_ready`). */
  since: Date;
  /** Whether `get_task` took the offer (the worker runs it) or it still waits to be taken. */
  taken: boolean;
}

/** A connection's remote worker, as `get_api_status` shows it. */
export interface RemoteWorkerSnapshot {
  actions: { actionname: string; workername: string; slotgroup: string; filter: Record<string, Json> | null }[];
  slotgroups: { name: string; slots: number; actions: string[]; tasksOut: number }[];
  tasks: TaskSnapshot[];
}

/** What `get_task` answers: the task, or `[]` when it went elsewhere. */
export type GetTaskAnswer = [jobId: number | string, cookie: string, inargs: Json, env: null] | [];

interface Action {
  workername: string;
  group: Group;
  filter: Record<string, Json> | null;
}

interface Group {
  name: string;
  slots: number;
  /** Made by an announce with a slot count: it goes with its action. */
  implicit: boolean;
  actions: Set<string>;
  worker: Worker | null;
  /** Consumer changes run one after another. */
  chain: Promise<void>;
}

interface Task {
  actionname: string;
  job: JobContext;
  /** When task_ready went out (for get_api_status). */
  since: Date;
  /** Set by get_task: the offer was taken. */
  cookie: string | null;
  /** Ends the task once: the first of get_task's timeout, task_done, an abort or a disconnect wins. */
  finish(outcome: TaskOutcome): void;
}

/**
 * How a task ends: with a result, a failed attempt or a permanent failure (each with the worker's
 * own text, written as it is), or given up with an error for the shim to read (a Decline, an abort).
 */
type TaskOutcome = { result: Json } | { fail: string } | { fatal: string } | { error: Error };

export class RemoteWorker {
  readonly #deps: RemoteWorkerDeps;
  readonly #log: Logger;
  readonly #groups = new Map<string, Group>();
  readonly #actions = new Map<string, Action>();
  /** Tasks offered or taken, by action and job id. */
  readonly #tasks = new Map<string, Task>();
  readonly #cookies = new Map<string, Task>();
  /** Consumer changes under way (each never rejects): close() waits for them. */
  readonly #replacing = new Set<Promise<void>>();
  #closed = false;

  constructor(deps: RemoteWorkerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ who: deps.who });
  }

  createSlotGroup(name: string, slots: number): void {
    if (this.#groups.has(name)) throw new ValidationError('name', `slot group "${name}" already exists on this connection`);
    this.#groups.set(name, { name, slots, implicit: false, actions: new Set(), worker: null, chain: Promise.resolve() });
  }

  /** Starts consuming the action's queue on the connection's behalf; resolves once it consumes (or, in a busy group, once that is under way). */
  async announce(a: Announcement): Promise<void> {
    if (this.#closed) throw new Error('the connection is closed');
    if (this.#actions.has(a.actionname)) throw new ValidationError('actionname', `"${a.actionname}" is already announced on this connection; withdraw it first`);
    let group: Group;
    if (a.slotgroup !== null) {
      const named = this.#groups.get(a.slotgroup);
      if (!named || named.implicit) throw new ValidationError('slotgroup', `no slot group named "${a.slotgroup}" on this connection: create_slotgroup first`);
      group = named;
    } else {
      const name = `_${a.actionname}`;
      group = { name, slots: a.slots ?? 1, implicit: true, actions: new Set(), worker: null, chain: Promise.resolve() };
      this.#groups.set(name, group);
    }
    this.#actions.set(a.actionname, { workername: a.workername, group, filter: a.filter });
    group.actions.add(a.actionname);
    const busy = isBusy(group);
    const replacing = this.#replaceConsumer(group);
    // A group with tasks out gets its new consumer once they finish: the announce is not held for a long task.
    if (busy) return;
    try {
      await replacing;
    } catch (err) {
      this.#forget(a.actionname);
      throw err;
    }
  }

  /** Stops consuming the action's queue; its tasks out finish (within the drain bound). */
  async withdraw(actionname: string): Promise<void> {
    const action = this.#actions.get(actionname);
    if (!action) throw new ValidationError('actionname', `"${actionname}" is not announced on this connection`);
    this.#forget(actionname);
    const busy = isBusy(action.group);
    const replacing = this.#replaceConsumer(action.group);
    if (!busy) await replacing;
  }

  /** Whether this connection would take a job of `actionname` with this arg now: it works the action, its filter matches, and its slot group has a slot free. */
  wouldTake(actionname: string, arg: Json): boolean {
    const action = this.#actions.get(actionname);
    if (this.#closed || !action || (action.filter !== null && !jsonContains(arg, action.filter))) return false;
    let out = 0;
    for (const task of this.#tasks.values()) if (action.group.actions.has(task.actionname)) out++;
    return out < action.group.slots;
  }

  /** What this connection works now: its actions, slot groups and tasks out (a read-only copy). */
  snapshot(): RemoteWorkerSnapshot {
    const tasks = [...this.#tasks.values()].map((t) => ({
      jobId: t.job.id,
      actionname: t.actionname,
      workername: this.#actions.get(t.actionname)?.workername ?? '',
      since: t.since,
      taken: t.cookie !== null,
    }));
    return {
      actions: [...this.#actions].map(([actionname, a]) => ({ actionname, workername: a.workername, slotgroup: a.group.name, filter: a.filter })),
      slotgroups: [...this.#groups.values()].map((g) => ({
        name: g.name,
        slots: g.slots,
        actions: [...g.actions],
        tasksOut: tasks.filter((t) => g.actions.has(t.actionname)).length,
      })),
      tasks,
    };
  }

  /** Takes an offer: its cookie and arguments, or `[]` if it timed out, was taken already or never was. */
  getTask(actionname: string, jobId: string): GetTaskAnswer {
    const task = this.#tasks.get(taskKey(actionname, jobId));
    if (!task || task.cookie !== null) return [];
    // The job id makes a cookie easy to trace in logs; the 144 random bits make it unguessable,
    // and a new one per offer makes every earlier cookie of the same job stale.
    task.cookie = `${task.job.id}.${randomBytes(18).toString('base64url')}`;
    this.#cookies.set(task.cookie, task);
    return [wireJobId(task.job.id), task.cookie, task.job.arg, null];
  }

  /** Settles the task of a current cookie as `outargs` say; returns false (and changes nothing) for a stale one. */
  taskDone(cookie: string, outargs: Record<string, Json>): boolean {
    const task = this.#cookies.get(cookie);
    if (!task) {
      this.#log.debug({ cookie: cookie.slice(0, 100) }, 'task_done with a stale or unknown cookie; ignored');
      return false;
    }
    const end = taskEnd(outargs);
    task.finish(end.kind === 'complete' ? { result: end.result } : end.kind === 'fatal' ? { fatal: end.error } : { fail: end.error });
    return true;
  }

  /**
   * The connection closed: every task is given back at once (never left to wait out its lease).
   * An offer not yet taken is declined, since the worker never ran it; a task taken is a failed
   * attempt with the reason `worker disconnected` (JobCenter raises a soft error too): it may have
   * had effects, or have crashed its worker, so it counts against the job's retries. When the
   * controller itself is stopping (`why` = 'shutdown'), the worker did nothing wrong: every task is
   * declined, as the shim does with the jobs it gives back on shutdown. Then every consumer stops.
   */
  async close(why: 'disconnect' | 'shutdown' = 'disconnect'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const task of [...this.#tasks.values()]) {
      if (why === 'shutdown') task.finish({ error: new Decline('the controller is stopping') });
      else task.finish(task.cookie === null ? { error: new Decline('the worker disconnected before taking the task') } : { fail: 'worker disconnected' });
    }
    this.#actions.clear();
    for (const g of this.#groups.values()) {
      g.actions.clear();
      this.#replaceConsumer(g).catch(() => undefined); // logged by the chain
    }
    // Every consumer change still under way (a withdrawn group draining included) ends before this resolves.
    await Promise.all(this.#replacing);
  }

  #forget(actionname: string): void {
    const action = this.#actions.get(actionname);
    if (!action) return;
    this.#actions.delete(actionname);
    action.group.actions.delete(actionname);
    if (action.group.implicit) this.#groups.delete(action.group.name);
  }

  /**
   * Replaces the group's consumer with one for its current actions (none when it has none left).
   * The old one stops first (letting its tasks finish within the drain bound), so the group never
   * has more than its slots out. Resolves once the new consumer consumes.
   */
  #replaceConsumer(group: Group): Promise<void> {
    const next = group.chain.then(async () => {
      const old = group.worker;
      group.worker = null;
      if (old) await old.stop();
      if (this.#closed || group.actions.size === 0) return;
      const worker = this.#createWorker(group);
      try {
        await worker.start();
      } catch (err) {
        await worker.stop();
        throw new Error(`cannot consume the queues of ${[...group.actions].join(', ')}`, { cause: err });
      }
      group.worker = worker;
    });
    group.chain = next.catch((err: unknown) => this.#log.error({ group: group.name, err: (err as Error).message }, 'replacing a remote slot group consumer failed'));
    const settled = group.chain;
    this.#replacing.add(settled);
    settled.then(
      () => this.#replacing.delete(settled),
      () => undefined,
    );
    return next;
  }

  #createWorker(group: Group): Worker {
    const { store, broker, options } = this.#deps;
    const functions = Object.fromEntries(
      [...group.actions].map((actionname) => [
        actionname,
        {
          handler: this.#handler(actionname),
          group: group.name,
          ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
          ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
        },
      ]),
    );
    return createWorker({
      store,
      broker,
      functions,
      slotGroups: { [group.name]: group.slots },
      logger: this.#log,
      workerId: `remote:${this.#deps.who}:${group.name}`,
      shutdownGraceMs: options.drainMs,
    });
  }

  /** The shim's handler for one action: offer the claimed job to the connection, and wait for its answer. */
  #handler(actionname: string): Handler {
    return (job) => {
      const action = this.#actions.get(actionname);
      if (this.#closed || !action) throw new Decline(`${actionname} is no longer announced on this connection`);
      if (action.filter !== null && !jsonContains(job.arg, action.filter)) {
        // A free, matching worker here takes it on its next delivery; with none, a delay keeps the
        // job from circling through the broker while it waits for one.
        if (this.#deps.takenElsewhere?.(actionname, job.arg)) throw new Decline('the action filter does not match; another worker here takes it');
        throw new Decline('the action filter does not match', new Date(Date.now() + this.#deps.options.filterRetryMs));
      }
      return this.#offer(actionname, job);
    };
  }

  #offer(actionname: string, job: JobContext): Promise<Json> {
    const key = taskKey(actionname, job.id);
    // A job is offered to a connection once at a time; a second copy (a redelivery) is given back.
    if (this.#tasks.has(key)) return Promise.reject(new Decline('already offered to this connection'));
    return new Promise<Json>((resolve, reject) => {
      const timeoutMs = this.#deps.options.offerTimeoutMs;
      const timer = setTimeout(() => task.finish({ error: new Decline(`get_task did not come within ${timeoutMs} ms`) }), timeoutMs);
      // The attempt ended on the shim's side (its timeout, a lost lease, shutdown): the cookie goes stale.
      const onAbort = (): void => task.finish({ error: job.signal.reason instanceof Error ? job.signal.reason : new Error('aborted') });
      const task: Task = {
        actionname,
        job,
        since: new Date(),
        cookie: null,
        finish: (outcome) => {
          if (this.#tasks.get(key) !== task) return;
          this.#tasks.delete(key);
          if (task.cookie !== null) this.#cookies.delete(task.cookie);
          clearTimeout(timer);
          job.signal.removeEventListener('abort', onAbort);
          // Failures go through the job's own verbs, so the failure log holds the worker's text, not a stack.
          if ('result' in outcome) resolve(outcome.result);
          else if ('fail' in outcome) resolve(job.fail(outcome.fail).then(() => null));
          else if ('fatal' in outcome) resolve(job.permanentFailure(outcome.fatal).then(() => null));
          else reject(outcome.error);
        },
      };
      this.#tasks.set(key, task);
      job.signal.addEventListener('abort', onAbort, { once: true });
      // A closed connection fails the notify; close() gives the task back, so nothing to do here.
      this.#deps.peer.notify('task_ready', { actionname, job_id: wireJobId(job.id) }).catch(() => undefined);
    });
  }
}

/** Whether the group's consumer has tasks out (running, or writing their outcome). */
function isBusy(group: Group): boolean {
  return (group.worker?.stats().running ?? 0) > 0;
}

function taskKey(actionname: string, jobId: string): string {
  return `${actionname}\u0000${jobId}`;
}

/** Job ids go on the wire as numbers, as JobCenter sends them; one past 2^53 (never in practice) stays a string. */
export function wireJobId(id: string): number | string {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : id;
}
