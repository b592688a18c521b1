/**
 * The job record, after TheSchwartz: a function name, a JSON argument, an optional unique key,
 * a time before which it must not run, a priority and a coalesce value. A job lives in one of
 * the live states until an outcome moves it to a finished state.
 */

/** States of a job that can still run. These rows live in the hot `jobs` table. */
export const LIVE_STATES = ['scheduled', 'ready', 'dispatched', 'running'] as const;
/** States of a job that will not run again unless retried by hand. These rows live in `finished_jobs`. */
export const FINISHED_STATES = ['completed', 'failed', 'cancelled'] as const;
/** Every state, in the order a job usually passes through them. */
export const JOB_STATES = [...LIVE_STATES, ...FINISHED_STATES] as const;

export type LiveState = (typeof LIVE_STATES)[number];
export type FinishedState = (typeof FINISHED_STATES)[number];
export type JobState = (typeof JOB_STATES)[number];

/** True for the states a job can still run from. */
export function isLiveState(state: JobState): state is LiveState {
  return (LIVE_STATES as readonly string[]).includes(state);
}

/** A JSON value as PostgreSQL's `jsonb` stores it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a producer supplies to enqueue a job. Only `funcname` is required. */
export interface NewJob {
  /** The function that runs the job; also names its queue. Letters, digits and `_ . : -`, 1–200 characters. */
  funcname: string;
  /** The job's argument; anything JSON can carry. Defaults to `null`. */
  arg?: unknown;
  /** At most one live job per (funcname, uniqkey); enqueueing a duplicate returns the live job's id. */
  uniqkey?: string | null;
  /** Not before this time (a Date or an ISO 8601 string with offset). Defaults to now. */
  runAfter?: Date | string | null;
  /** Higher runs first, from -100 to 100. Defaults to 0. */
  priority?: number;
  /** Jobs of one function sharing a coalesce value can be claimed together by one worker (TheSchwartz). */
  coalesce?: string | null;
  /** Failed attempts retried before the job fails for good. Defaults to {@link DEFAULT_MAX_RETRIES}. */
  maxRetries?: number;
  /** How long one attempt may run, in milliseconds; null leaves it to the worker's configuration. */
  timeoutMs?: number | null;
  /**
   * Makes an enqueue safe to retry: the first insert with this key creates the job, and any later
   * insert with it (a retry after a connection died at commit) returns that job's id with
   * `inserted: false`, whether the job is live or finished, for as long as the store keeps keys
   * (24 h by default). Generate one per logical enqueue (a UUID, say); 1 to 255 characters.
   */
  idempotencyKey?: string | null;
}

/** A job as the store reports it, live or finished. */
export interface Job {
  /** Database id, as a decimal string (a bigint does not fit a JS number safely). */
  id: string;
  funcname: string;
  arg: Json;
  uniqkey: string | null;
  state: JobState;
  priority: number;
  /** When the job may next run; null means never (rescheduled to `never`). For finished jobs, when it last was due. */
  runAfter: Date | null;
  coalesce: string | null;
  maxRetries: number;
  timeoutMs: number | null;
  /** How many times a worker claimed the job. */
  attempts: number;
  /** How many attempts failed; declines and cancellations do not count. */
  failures: number;
  /** Lease end of the current claim; null unless running, and for a workflow job its run holds (no lease end). */
  grabbedUntil: Date | null;
  createdAt: Date;
  /** When the job reached its finished state; null while live. */
  finishedAt: Date | null;
  /** The handler's result, for completed jobs; null otherwise. */
  result: Json;
}

/** A job a worker holds: the grab token fences every outcome it writes. */
export interface ClaimedJob extends Job {
  state: 'running';
  /** Fresh on every claim. An outcome write with any other token is refused. */
  grabToken: string;
  grabbedUntil: Date;
}

/** One entry of a job's failure log. */
export interface JobFailure {
  /** The attempt (claim number) that failed. */
  attempt: number;
  error: string;
  failedAt: Date;
}

/** A job with its failure log, oldest failure first. */
export interface JobWithFailures extends Job {
  failureLog: JobFailure[];
}

/** Retries before a job fails for good, unless the job or its function says otherwise.
 * Fifteen retries on the default backoff span about 6.4 days (34 h of doubling, then one a day),
 * long enough to ride out a weekend-long outage of whatever the job talks to. */
export const DEFAULT_MAX_RETRIES = 15;

/** Priority bounds: a small symmetric range maps cleanly onto broker priorities. */
export const PRIORITY_MIN = -100;
export const PRIORITY_MAX = 100;

/** Upper bound for max retries: past this a job is effectively retried forever, which is a bug, not a setting. */
export const MAX_RETRIES_LIMIT = 1000;
