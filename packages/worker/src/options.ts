/**
 * Worker configuration, validated once at construction: every error names the option
 * (`functions.email.send.slots`), and nothing starts with a bad configuration.
 */
import { z } from 'zod';
import { DEFAULT_RETRY_POLICY, FUNCNAME_PATTERN, MAX_RETRIES_LIMIT, ValidationError, retryPolicy, type Json, type Logger, type NewJob, type RetryPolicy } from '@drover/core';

/** What a handler receives: the job, a signal, and TheSchwartz's verbs. */
export interface JobContext {
  id: string;
  funcname: string;
  arg: Json;
  uniqkey: string | null;
  priority: number;
  coalesce: string | null;
  /** 1 for the first claim, and one more for each claim after (declines included). */
  attempt: number;
  /** Failed attempts so far. */
  failures: number;
  createdAt: Date;
  /**
   * Aborted (with an {@link AttemptAborted} reason) when the attempt times out, the lease is lost
   * or runs out without a renewal (the worker then writes no outcome: the job may run elsewhere),
   * or the worker shuts down.
   */
  signal: AbortSignal;
  /** A child logger carrying jobId, funcname, attempt and workerId. */
  logger: Logger;
  /** Completes with a result (returning a value does the same). */
  complete(result?: unknown): Promise<void>;
  /** Fails this attempt; retried with backoff unless retries are spent. */
  fail(error: unknown): Promise<void>;
  /** Fails the job for good. */
  permanentFailure(error: unknown): Promise<void>;
  /**
   * cozy-stack's no-retry flag: from now on, a failure of this attempt (a throw, `fail`, the
   * timeout) fails the job for good, as {@link permanentFailure} would. A success still completes it.
   */
  noRetry(): void;
  /** Gives the job back without counting a failure, optionally not before `runAfter`. */
  decline(runAfter?: Date | null): Promise<void>;
  /** Completes this job and inserts `jobs` in the same transaction. */
  replaceWith(jobs: NewJob[]): Promise<void>;
  /** Extends the lease now (the worker also renews it until the outcome is written). */
  heartbeat(): Promise<void>;
  /**
   * Coalescing (a function with the `coalesce` option, a job with a coalesce value): the other
   * ready jobs of this function with the same coalesce value, claimed with this one, at most
   * `coalesce.max`; empty otherwise. Each sibling is a job of its own, with its own grab token,
   * lease, signal and verbs: settle each with its own `complete`, `fail`, `decline`... and only
   * its own outcome is fenced by its own lease (one cancelled meanwhile refuses only its outcome).
   * A sibling the handler leaves unsettled shares the handler's end: completed (with no result)
   * when the handler returns or replaces its job, failed or declined alike when it throws or
   * declines, given back when the first job's lease is lost. Siblings have no siblings.
   */
  siblings: readonly JobContext[];
}

export type Handler = (job: JobContext) => unknown;

/**
 * What became of an attempt, as the `after` hook sees it. `written` is false when the store
 * refused the write (the lease was lost: the job was taken back or cancelled) or the worker gave up
 * writing it (PostgreSQL away for too long): the job then runs again, or was cancelled.
 */
export type JobOutcome =
  /** Completed; `skipped` when the `before` hook skipped it (the handler did not run, the result is null). */
  | { kind: 'completed'; written: boolean; result: unknown; skipped: boolean }
  /** Completed, with `jobs` inserted in the same transaction. */
  | { kind: 'replaced'; written: boolean; jobs: readonly NewJob[] }
  /**
   * A failed attempt. `retry`: backed off until `runAfter` (null when not written); otherwise failed
   * for good (a permanent failure, `noRetry`, `onError` returned false, or retries spent).
   */
  | { kind: 'failed'; written: boolean; error: string; retry: boolean; runAfter: Date | null }
  /** Given back without counting a failure (a decline, or the worker's shutdown). */
  | { kind: 'declined'; written: boolean; runAfter: Date | null }
  /** The lease ran out or was lost while the handler ran: the attempt was fenced, nothing was written. */
  | { kind: 'lost'; written: false };

/**
 * cozy-stack's worker hooks, per function. Each may be async. They run in this order: `before`,
 * the handler, `onError` (on a failure), the outcome write, `after`. The attempt's timeout bounds
 * `before`, the handler and `onError` together; none adds a round trip to PostgreSQL.
 */
export interface FunctionHooks {
  /**
   * Runs before the handler, with the handler's context. Returning `false` skips the job: the
   * handler does not run and the job is completed with a null result (`skipped` in `after`; cozy-stack
   * leaves such a job unrun, and a decline would only bring it back). Throwing is the handler's
   * throw: `Decline` gives the job back (to try later), `PermanentFailure` fails it for good, any
   * other error is a failed attempt. Settling the job through a verb also skips the handler. With
   * coalescing, it sees the first job (its siblings in `job.siblings`), and a skip skips them all.
   */
  before?: (job: JobContext) => unknown;
  /**
   * Runs on a failed attempt that would be retried if retries are left (a throw, `fail`, the
   * timeout; not `PermanentFailure`, `permanentFailure` or after `noRetry`), with what was thrown
   * (`AttemptAborted` for a timeout). Returning `false` fails the job for good; anything else keeps
   * the retry. If it throws, or the attempt's signal aborts before it returns, the retry stands.
   */
  onError?: (job: JobContext, error: unknown) => unknown;
  /**
   * Runs once the outcome is written (or refused, or fenced), whatever it was. What it returns or
   * throws is logged and changes nothing. The worker's `stop()` waits for it within its grace period only.
   */
  after?: (job: JobContext, outcome: JobOutcome) => unknown;
}

/** Per-function options (cozy-stack's worker configuration). */
export interface FunctionOptions extends FunctionHooks {
  handler: Handler;
  /** Concurrent jobs of this function in this process; the broker prefetch. Ignored in a slot group. */
  slots?: number;
  /** A slot group: functions that share one concurrency budget (see WorkerOptions.slotGroups). */
  group?: string;
  /** Overrides the job's max retries: failed attempts after the first before the job fails for good. */
  maxRetries?: number;
  /**
   * cozy-stack's name for the same limit, counted in failed attempts: `maxExecCount: n` is
   * `maxRetries: n - 1` (1: no retry). Give one of the two; both must agree.
   */
  maxExecCount?: number;
  /** A fixed delay between retries, in ms, instead of exponential backoff. */
  retryDelayMs?: number;
  /** Bound on one attempt, in ms; a job's own timeoutMs wins. Unset: no bound. */
  timeoutMs?: number;
  /** Lease length, in ms; renewed every third of it while the handler runs. */
  leaseMs?: number;
  /**
   * How long the exit status of a completed job is kept, in ms (default: the store's, a week).
   * 0 keeps none, as TheSchwartz does by default: the job is deleted when it completes, one write
   * fewer per job, and neither `call` nor a lookup can read its result afterwards.
   */
  keepForMs?: number;
  /**
   * TheSchwartz's coalescing: with a claimed job that has a coalesce value, also claim up to `max`
   * other ready jobs of this function with the same value, handed to the handler as
   * `job.siblings`. Unset: no coalescing.
   */
  coalesce?: { max: number };
  /**
   * A fleet-wide rate limit: at most `max` starts of this function in any `perMs` window, across
   * every worker sharing the WorkerOptions.flowControl store; with `key`, per key (see {@link FlowKey}).
   * A job over it does not run and counts no failure: it is given back to run when the window allows.
   */
  rateLimit?: { max: number; perMs: number; key?: FlowKey };
  /**
   * A fleet-wide concurrency cap per key: at most `perKey` jobs of this function with the same key
   * running at once, across every worker. A place is held with the job's lease and given back when
   * the handler is done; a worker that dies gives it back when the lease runs out. A job over the
   * cap is given back for a short while (see docs/flow-control.md, fairness), counting no failure.
   */
  concurrency?: { perKey: number; key: FlowKey };
}

/**
 * Where a job's flow-control key comes from: a dotted path into its arg (`'customer.id'`), or a
 * function of the arg. A job with no key there (missing, null) shares the key `''` with the others
 * that have none; a key that is not a string or a number is an error in the configuration, and the
 * job is failed as any handler error would be.
 */
export type FlowKey = string | ((arg: Json) => string | number | null | undefined);

/** A function's flow-control settings after validation; null where unset. */
export interface ResolvedFlow {
  rate: { max: number; perMs: number; keyOf: ((arg: Json) => string) | null } | null;
  cap: { perKey: number; keyOf: (arg: Json) => string } | null;
}

/** A function's options after defaults. */
export interface ResolvedFunction {
  funcname: string;
  handler: Handler;
  slots: number;
  group: string | null;
  policy: RetryPolicy;
  maxRetriesOverride: number | undefined;
  timeoutMs: number | null;
  leaseMs: number;
  keepForMs: number | undefined;
  /** Siblings to claim with a job that has a coalesce value; 0: none. */
  coalesceMax: number;
  /** The function's hooks; each unset one costs nothing per job. */
  hooks: FunctionHooks;
  /** Rate limit and concurrency cap; null when the function has neither (it never asks the flow-control store). */
  flow: ResolvedFlow | null;
}

/** One process-wide default; a function that needs more says so. */
export const DEFAULT_SLOTS = 10;
/** Long enough that a renewal every 20 s survives a few slow round trips; short enough that a dead worker's jobs come back within a minute. */
export const DEFAULT_LEASE_MS = 60_000;

const hook = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { error: 'must be a function' });
const maxRetriesError = `must be an integer from 0 to ${MAX_RETRIES_LIMIT}`;
const maxExecCountError = `must be an integer from 1 to ${MAX_RETRIES_LIMIT + 1}`;

const positiveInt = (max: number) => z.int({ error: `must be an integer from 1 to ${max}` }).min(1, { error: `must be an integer from 1 to ${max}` }).max(max, { error: `must be an integer from 1 to ${max}` });

const flowKey = z.union([
  z.string().regex(/^[^.]+(\.[^.]+)*$/, { error: 'must be a dotted path into the arg (customer.id) or a function of the arg' }),
  z.custom<(arg: Json) => unknown>((v) => typeof v === 'function'),
], { error: 'must be a dotted path into the arg (customer.id) or a function of the arg' });

// A week bounds the window: a longer one is a quota, not a rate, and belongs in the application.
const MAX_RATE_WINDOW_MS = 7 * 24 * 3_600_000;

const functionSchema = z.strictObject({
  handler: z.custom<Handler>((v) => typeof v === 'function', { error: 'must be a function' }),
  slots: positiveInt(10_000).optional(),
  group: z.string().min(1, { error: 'must be a non-empty string' }).optional(),
  maxRetries: z.int({ error: maxRetriesError }).min(0, { error: maxRetriesError }).max(MAX_RETRIES_LIMIT, { error: maxRetriesError }).optional(),
  maxExecCount: z.int({ error: maxExecCountError }).min(1, { error: maxExecCountError }).max(MAX_RETRIES_LIMIT + 1, { error: maxExecCountError }).optional(),
  retryDelayMs: z.int({ error: 'must be a whole number of milliseconds' }).min(0, { error: 'must be 0 or more' }).optional(),
  timeoutMs: positiveInt(7 * 24 * 3_600_000).optional(),
  // Leases shorter than a second would be renewed faster than a round trip on a busy machine.
  leaseMs: z.int({ error: 'must be a whole number of milliseconds from 1000 to 86400000' }).min(1000, { error: 'must be at least 1000' }).max(86_400_000, { error: 'must be at most 86400000' }).optional(),
  keepForMs: z.int({ error: 'must be a whole number of milliseconds' }).min(0, { error: 'must be 0 or more' }).optional(),
  // A thousand siblings is already a large batch for one handler, and each holds a lease renewed with the rest.
  coalesce: z.strictObject({ max: positiveInt(1_000) }, { error: 'must be an object { max }' }).optional(),
  rateLimit: z.strictObject({
    max: positiveInt(1_000_000),
    perMs: positiveInt(MAX_RATE_WINDOW_MS),
    key: flowKey.optional(),
  }, { error: 'must be an object { max, perMs, key? }' }).optional(),
  concurrency: z.strictObject({ perKey: positiveInt(100_000), key: flowKey }, { error: 'must be an object { perKey, key }' }).optional(),
  before: hook.optional(),
  onError: hook.optional(),
  after: hook.optional(),
});

/** Resolves `functions` and `slotGroups` into per-function settings, naming the first bad option. */
export function resolveFunctions(
  functions: Record<string, Handler | FunctionOptions>,
  slotGroups: Record<string, number> = {},
): { functions: ResolvedFunction[]; groups: Map<string, { slots: number; funcnames: string[] }> } {
  if (typeof functions !== 'object' || functions === null || Object.keys(functions).length === 0) {
    throw new ValidationError('functions', 'must name at least one function and its handler');
  }
  const groups = new Map<string, { slots: number; funcnames: string[] }>();
  for (const [name, slots] of Object.entries(slotGroups)) {
    if (!Number.isInteger(slots) || slots < 1) throw new ValidationError(`slotGroups.${name}`, 'must be an integer of at least 1');
    groups.set(name, { slots, funcnames: [] });
  }
  const resolved = Object.entries(functions).map(([funcname, value]): ResolvedFunction => {
    if (!FUNCNAME_PATTERN.test(funcname)) throw new ValidationError(`functions.${funcname}`, 'is not a valid funcname: 1 to 200 letters, digits or _ . : -');
    const parsed = functionSchema.safeParse(typeof value === 'function' ? { handler: value } : value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const key = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]].join('.') : issue.path.join('.');
      const unknown = issue.path.length === 0 ? 'is not a function option' : `is not an option of ${issue.path.join('.')}`;
      throw new ValidationError(`functions.${funcname}${key ? `.${key}` : ''}`, issue.code === 'unrecognized_keys' ? unknown : issue.message);
    }
    const o = parsed.data;
    // One limit under two names: cozy-stack counts executions, TheSchwartz retries after the first.
    let maxRetries = o.maxRetries;
    if (o.maxExecCount !== undefined) {
      if (maxRetries !== undefined && maxRetries !== o.maxExecCount - 1) {
        throw new ValidationError(`functions.${funcname}.maxExecCount`, `is ${o.maxExecCount}, which means maxRetries ${o.maxExecCount - 1}, but functions.${funcname}.maxRetries is ${maxRetries}; give one of the two`);
      }
      maxRetries = o.maxExecCount - 1;
    }
    if (o.group !== undefined) {
      const group = groups.get(o.group);
      if (!group) throw new ValidationError(`functions.${funcname}.group`, `names slot group "${o.group}", which slotGroups does not define`);
      group.funcnames.push(funcname);
    }
    return {
      funcname,
      handler: o.handler,
      slots: o.slots ?? DEFAULT_SLOTS,
      group: o.group ?? null,
      policy: retryPolicy({
        ...(maxRetries === undefined ? {} : { maxRetries }),
        fixedDelayMs: o.retryDelayMs ?? DEFAULT_RETRY_POLICY.fixedDelayMs,
      }),
      maxRetriesOverride: maxRetries,
      timeoutMs: o.timeoutMs ?? null,
      leaseMs: o.leaseMs ?? DEFAULT_LEASE_MS,
      keepForMs: o.keepForMs,
      coalesceMax: o.coalesce?.max ?? 0,
      hooks: { before: o.before as FunctionHooks['before'], onError: o.onError as FunctionHooks['onError'], after: o.after as FunctionHooks['after'] },
      flow: o.rateLimit || o.concurrency ? {
        rate: o.rateLimit ? { max: o.rateLimit.max, perMs: o.rateLimit.perMs, keyOf: o.rateLimit.key === undefined ? null : keyReader(o.rateLimit.key as FlowKey, `functions.${funcname}.rateLimit.key`) } : null,
        cap: o.concurrency ? { perKey: o.concurrency.perKey, keyOf: keyReader(o.concurrency.key as FlowKey, `functions.${funcname}.concurrency.key`) } : null,
      } : null,
    };
  });
  for (const [name, group] of groups) if (group.funcnames.length === 0) throw new ValidationError(`slotGroups.${name}`, 'no function uses this group');
  return { functions: resolved, groups };
}

/** Reads a job's key as FlowKey describes; throws naming the option when the key is neither a string nor a number. */
function keyReader(key: FlowKey, option: string): (arg: Json) => string {
  const read: (arg: Json) => unknown = typeof key === 'function'
    ? key
    : (arg) => key.split('.').reduce<unknown>((v, part) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[part] : undefined), arg);
  return (arg) => {
    const value = read(arg);
    if (value === undefined || value === null) return '';
    if (typeof value === 'string') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    throw new ValidationError(option, `gave a ${typeof value} for this job's key; a key must be a string or a number`);
  };
}
