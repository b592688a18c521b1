/**
 * Worker presence: which worker processes are alive now, and what they serve. Disposable by
 * design (DESIGN.md: Redis holds what is fast and disposable): no job depends on it, losing it only
 * empties the list until the next heartbeats, and a worker never stops or fails a job because it
 * could not report itself. Adapters are in `@drover/presence` (Redis and in-memory), which pass
 * one conformance suite.
 */
import { ValidationError } from './errors.js';

/** A shim worker process (`drover worker`, `createWorker`), or a remote JSON-RPC worker's connection run by a controller. */
export type WorkerKind = 'shim' | 'remote';

/** What a worker says about itself on every heartbeat. */
export interface WorkerPresence {
  /** Unique across the fleet: the shim's `workerId`, or the controller's id for a connection. */
  id: string;
  kind: WorkerKind;
  /** A remote worker's API client name; null for a shim. */
  client: string | null;
  /** The host the worker runs on (a remote worker: the address its connection comes from). */
  host: string;
  /** Its process id; null for a remote worker, whose process the controller cannot see. */
  pid: number | null;
  /** The functions it consumes, sorted. */
  functions: string[];
  /** How many jobs it may run at once (the sum of its subscriptions' slots). */
  slots: number;
  /** Jobs it runs now. */
  running: number;
  /** The Drover version it runs (a remote worker: the controller's). */
  version: string;
  startedAt: Date;
}

/** A live worker as listed: what it said last, and when that stops counting. */
export interface LiveWorker extends WorkerPresence {
  /** When its last heartbeat was written. */
  seenAt: Date;
  /** When it drops off the list unless another heartbeat comes. */
  expiresAt: Date;
}

/**
 * The presence registry. `announce` registers a worker or refreshes it (the whole record each time,
 * so a registry that lost its data, a restarted Redis, is whole again after one heartbeat);
 * a record not refreshed within its `ttlMs` drops off `list` on its own; `withdraw` removes it at
 * once (a clean stop). Every call may reject while the registry is unreachable; callers log and
 * carry on (see {@link PresenceHeartbeat}).
 */
export interface Presence {
  announce(worker: WorkerPresence, ttlMs: number): Promise<void>;
  withdraw(id: string): Promise<void>;
  /** The live workers, ordered by id. */
  list(): Promise<LiveWorker[]>;
  close(): Promise<void>;
}

/** Presence ids are keys in the registry: printable, no spaces, bounded. */
const PRESENCE_ID_PATTERN = /^[\x21-\x7e]{1,200}$/;

/** Checks a record before it is written; the error names the field. */
export function validateWorkerPresence(worker: WorkerPresence, ttlMs: number): void {
  if (typeof worker.id !== 'string' || !PRESENCE_ID_PATTERN.test(worker.id)) throw new ValidationError('id', 'must be 1 to 200 printable characters with no spaces');
  if (worker.kind !== 'shim' && worker.kind !== 'remote') throw new ValidationError('kind', 'must be shim or remote');
  if (worker.client !== null && typeof worker.client !== 'string') throw new ValidationError('client', 'must be a client name or null');
  if (typeof worker.host !== 'string') throw new ValidationError('host', 'must be a string');
  if (worker.pid !== null && !(Number.isInteger(worker.pid) && worker.pid > 0)) throw new ValidationError('pid', 'must be a positive integer or null');
  if (!Array.isArray(worker.functions) || !worker.functions.every((f) => typeof f === 'string')) throw new ValidationError('functions', 'must be an array of function names');
  if (!Number.isInteger(worker.slots) || worker.slots < 0) throw new ValidationError('slots', 'must be a whole number, 0 or more');
  if (!Number.isInteger(worker.running) || worker.running < 0) throw new ValidationError('running', 'must be a whole number, 0 or more');
  if (typeof worker.version !== 'string') throw new ValidationError('version', 'must be a string');
  if (!(worker.startedAt instanceof Date) || Number.isNaN(worker.startedAt.getTime())) throw new ValidationError('startedAt', 'must be a valid date');
  if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new ValidationError('ttlMs', 'must be a whole number of milliseconds, at least 1');
}
