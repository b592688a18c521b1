/**
 * The store's part in a workflow's locks and events (JobCenter's `lock` / `unlock` /
 * `wait_for_lock` and `subscribe` / `raise_event` / `wait_for_event`), as the workflow engine's
 * host calls it on the transaction of the step it runs: every effect commits with the step, or
 * not at all. Waiting is never done here: a lock granted or an event delivered later appends a
 * wakeup for the waiting workflow (`workflow_wakeups`), which the engine consumes.
 *
 * The input checks are here too (pure), so every adapter refuses the same inputs the same way.
 */
import { ValidationError } from './errors.js';
import { EVENT_MAX_BYTES } from './event.js';
import type { Json } from './job.js';
import { toJsonText } from './validate.js';

/** What asking for a lock answered (the workflow package's `LockAnswer`, with job ids as strings). */
export type WorkflowLockAnswer =
  | { readonly kind: 'acquired' }
  /** Held by `holder`; the wait is recorded, and the grant will append a 'lock' wakeup. */
  | { readonly kind: 'waiting'; readonly holder: string }
  /** Waiting would close this cycle of the wait graph: the asker, the job it would wait for, …; nothing is recorded. */
  | { readonly kind: 'deadlock'; readonly cycle: readonly string[] }
  /** Held by `holder`, and the asker would not wait; nothing is recorded. */
  | { readonly kind: 'busy'; readonly holder: string };

/** How a job asks for a lock. */
export interface WorkflowLockOptions {
  /** Whether the job's descendants may use the lock while it waits for them. */
  readonly inherit: boolean;
  /** false: answer `busy` instead of waiting. */
  readonly wait: boolean;
  /** The job's ancestors (parent first): a lock one of them holds with `inherit` is lent to the job. */
  readonly parentJobIds?: readonly string[];
  /** When the wait times out (the engine's timer ends it with cancelLockWait); recorded for the operator. */
  readonly until?: Date | null;
}

/** Who has a lock, as check_if_lock_exists sees it. */
export interface WorkflowLockHolder {
  readonly holder: string;
  readonly inherit: boolean;
  /** The descendants using an inherited lock now, innermost last (empty: the holder itself). */
  readonly borrowers: readonly string[];
  readonly acquiredAt: Date;
}

/** The locks part of a workflow's runtime; each call is one transaction (a savepoint inside the caller's). */
export interface WorkflowLockStore {
  /**
   * Takes a lock: free, or held by an ancestor with `inherit` (lent to the job), it is acquired;
   * otherwise `busy` without `wait`, `deadlock` when waiting would close a cycle of the wait graph,
   * or `waiting` with the wait recorded. A job asking again for a lock it has is answered `acquired`.
   */
  lock(jobId: string, type: string, value: string, options: WorkflowLockOptions): Promise<WorkflowLockAnswer>;
  /** Releases a lock the job has (a lent one goes back to its lender); false when it has not. */
  unlock(jobId: string, type: string, value: string): Promise<boolean>;
  /** A job's end: releases every lock it holds or borrows and ends its lock wait. Returns the locks released. */
  releaseAll(jobId: string): Promise<number>;
  /**
   * Ends the job's lock wait (its timeout). False when it was not waiting: the lock was granted
   * first, and its 'lock' wakeup is on the way.
   */
  cancelLockWait(jobId: string): Promise<boolean>;
  /** Who has the lock, or null when it is free. */
  checkIfLockExists(type: string, value: string): Promise<WorkflowLockHolder | null>;
}

/** An event as a workflow receives it (the workflow package's `WorkflowEvent`). */
export interface WorkflowEventRecord {
  /** The subscription's name. */
  readonly name: string;
  readonly eventId: string;
  /** When it was raised, ISO 8601. */
  readonly when: string;
  readonly data: { [key: string]: Json };
}

/** What a raise did. */
export interface RaisedWorkflowEvent {
  /** The event's id, as its receivers see it; null when no subscription matched (nothing was stored). */
  readonly eventId: string | null;
  /** Waiting workflows given an 'event' wakeup. */
  readonly woken: number;
  /** Matches queued for a later wait_for_event. */
  readonly queued: number;
}

/** The events part of a workflow's runtime; each call is one transaction (a savepoint inside the caller's). */
export interface WorkflowEventStore {
  /** Subscribes the job, under `name`, to events whose data contains `mask`; again: the mask is replaced. */
  subscribe(jobId: string, name: string, mask: { [key: string]: Json }): Promise<void>;
  /** Ends one subscription and drops its queued events; false when there was none. */
  unsubscribe(jobId: string, name: string): Promise<boolean>;
  /** A job's end: ends its subscriptions and its event wait. */
  unsubscribeAll(jobId: string): Promise<void>;
  /**
   * Raises an event: every subscription whose mask its data contains receives it, by a wakeup if
   * its job is waiting for that name, by its queue otherwise.
   */
  raiseWorkflowEvent(data: { [key: string]: Json }): Promise<RaisedWorkflowEvent>;
  /**
   * Starts a wait_for_event on these subscription names: the oldest event queued for any of them
   * (consumed), or null, and then the job waits: the next matching raise appends its wakeup.
   */
  takeEvent(jobId: string, names: readonly string[]): Promise<WorkflowEventRecord | null>;
  /** Ends the job's event wait (its timeout). False when an event woke it first (its wakeup is on the way). */
  cancelEventWait(jobId: string): Promise<boolean>;
}

/** A lock type longer than this is a value in the wrong place; lock types are a short vocabulary. */
const LOCK_TYPE_MAX = 200;
/** A lock value is a key (an account id, a path): 1000 characters leaves room and bounds the index entry. */
const LOCK_VALUE_MAX = 1000;
/** Subscription names are labels a workflow chooses, as function names are. */
const NAME_MAX = 200;
/** A wait_for_event lists a handful of names; more is a mistake, and bounds the array. */
const NAMES_MAX = 100;
/** A mask is a small pattern matched against every raise; 64 KiB is far beyond any real one. */
const MASK_MAX_BYTES = 64 * 1024;
/** Deeper nesting than this is a runaway recursion, not a workflow tree (JobCenter's max_depth is far lower). */
const ANCESTORS_MAX = 1000;

function checkText(value: unknown, field: string, max: number, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || value.includes('\u0000')) {
    throw new ValidationError(field, `must be ${what}: a string of 1 to ${max} characters, without NUL`);
  }
  return value;
}

/** Throws a ValidationError naming `type` or `value` unless both can name a lock. */
export function validateLockKey(type: unknown, value: unknown): { type: string; value: string } {
  return { type: checkText(type, 'type', LOCK_TYPE_MAX, 'a lock type'), value: checkText(value, 'value', LOCK_VALUE_MAX, 'a lock value') };
}

/** Throws a ValidationError naming `name` unless it can name a subscription. */
export function validateSubscriptionName(name: unknown, field = 'name'): string {
  return checkText(name, field, NAME_MAX, 'a subscription name');
}

/** Throws a ValidationError naming `names` (or `names[i]`) unless it is a list of 1 to 100 distinct names. */
export function validateSubscriptionNames(names: unknown): string[] {
  if (!Array.isArray(names) || names.length === 0 || names.length > NAMES_MAX) {
    throw new ValidationError('names', `must be a list of 1 to ${NAMES_MAX} subscription names`);
  }
  const list = names.map((n, i) => validateSubscriptionName(n, `names[${i}]`));
  return [...new Set(list)];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkObject(value: unknown, field: string, maxBytes: number): string {
  if (!isObject(value)) throw new ValidationError(field, 'must be a JSON object');
  const text = toJsonText(value, field);
  if (Buffer.byteLength(text) > maxBytes) throw new ValidationError(field, `must be at most ${maxBytes} bytes of JSON`);
  return text;
}

/** Returns a mask's JSON text, or throws naming `mask`: an object storable as jsonb, at most 64 KiB. */
export function validateMask(mask: unknown): string {
  return checkObject(mask, 'mask', MASK_MAX_BYTES);
}

/** Returns an event's JSON text, or throws naming `data`: an object storable as jsonb, at most 1 MiB (as an API event). */
export function validateWorkflowEventData(data: unknown): string {
  return checkObject(data, 'data', EVENT_MAX_BYTES);
}

/** Throws naming `parentJobIds` unless it is a list of at most 1000 ids, checked by `isId`. */
export function validateAncestors(ids: unknown, isId: (id: unknown) => boolean): string[] {
  if (ids === undefined) return [];
  if (!Array.isArray(ids) || ids.length > ANCESTORS_MAX) throw new ValidationError('parentJobIds', `must be a list of at most ${ANCESTORS_MAX} job ids`);
  ids.forEach((id, i) => {
    if (!isId(id)) throw new ValidationError(`parentJobIds[${i}]`, 'must be a job id');
  });
  return ids as string[];
}
