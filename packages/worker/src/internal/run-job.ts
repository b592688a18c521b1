/**
 * Runs one claimed job (and, for a coalescing function, its siblings): builds the handler's
 * context, bounds the attempt by its timeout, keeps every lease through the lease keeper until its
 * outcome is written, and turns what the handler did (a verb, a return value, a throw) into
 * exactly one outcome per job. The first outcome wins; anything the handler does after it (say,
 * finishing after its timeout) is ignored, because the job is no longer its to settle.
 */
import { performance } from 'node:perf_hooks';
import { Decline, PermanentFailure, type ClaimedJob, type Logger } from '@drover/core';
import type { FunctionHooks, JobContext, JobOutcome, ResolvedFunction } from '../options.js';
import type { LeaseEnd, LeaseKeeper } from './lease-keeper.js';
import { errorText, type Outcome, type OutcomeWriter } from './outcome-writer.js';
import type { Claim } from './round-trips.js';

/** Why a job's signal was aborted. */
export class AttemptAborted extends Error {
  constructor(
    readonly reason: 'timeout' | 'lease lost' | 'shutdown',
    message: string,
  ) {
    super(message);
    this.name = 'AttemptAborted';
  }
}

export interface RunningJob {
  job: ClaimedJob;
  /**
   * Resolves once the job and every coalesced sibling have an outcome (the handler is finished
   * with all of them), before they are written: the slot is held and the timeout runs until then.
   */
  decided: Promise<void>;
  /** Settles once every outcome (the job's and its siblings') was written, refused, or fenced off. */
  written: Promise<void>;
  /** Settles once, after that, every `after` hook has returned too (the same as `written` without one). */
  done: Promise<void>;
  /** Ends the attempt now, giving the jobs back without counting a failure (worker shutdown). */
  giveBack(): void;
}

export interface RunDeps {
  logger: Logger;
  leases: LeaseKeeper;
  writer: OutcomeWriter;
  /** How long past the end of its lease (on this worker's clock) a decided outcome's write is retried; see WorkerOptions.outcomeGraceMs. */
  outcomeGraceMs: number;
}

/** One claimed job's attempt: its signal, its lease, its one outcome. */
class Attempt {
  readonly controller = new AbortController();
  readonly decided: Promise<void>;
  readonly written: Promise<void>;
  readonly done: Promise<void>;
  #resolveDecided!: () => void;
  #resolveWritten!: () => void;
  #resolveDone: () => void = () => undefined;
  #settled: Promise<void> | null = null;
  /** The outcome is final (past `onError`): the slot may go, the write begins. */
  #decided = false;
  /** The handler called `noRetry()`: a failure from now on is for good. */
  noRetry = false;
  /** The handler's context for this job, handed to the hooks. */
  #context: JobContext | undefined;
  /** The lease was refused, or ran out while the handler ran: write nothing more. */
  #fenced = false;
  /** Monotonic time the lease ran out on this worker's clock after the outcome was decided; its write goes on until the grace after it. */
  #expiredAt: number | null = null;
  // Made on first use: most jobs log nothing, and a child logger per job is measurable at thousands per second.
  #child: Logger | undefined;
  readonly #untrack: () => void;

  constructor(
    readonly job: ClaimedJob,
    readonly fn: ResolvedFunction,
    sentAt: number,
    private readonly deps: RunDeps,
  ) {
    this.decided = new Promise((resolve) => (this.#resolveDecided = resolve));
    this.written = new Promise((resolve) => (this.#resolveWritten = resolve));
    // Without an `after` hook, nothing follows the write: one promise fewer per job.
    this.done = fn.hooks.after ? new Promise((resolve) => (this.#resolveDone = resolve)) : this.written;
    this.#untrack = deps.leases.track(job, fn.leaseMs, sentAt, (end) => this.#leaseEnded(end));
  }

  get settled(): boolean {
    return this.#settled !== null;
  }

  log = (): Logger => (this.#child ??= this.deps.logger.child({ jobId: this.job.id, funcname: this.job.funcname, attempt: this.job.attempts }));

  /** Takes the first outcome the job is given (later ones are ignored), runs `onError` on a failure, writes it, then runs `after`. */
  settle(outcome: Outcome): Promise<void> {
    if (this.#settled) {
      if (!this.#fenced) this.log().warn({ outcome: outcome.kind }, 'the job already has an outcome; ignoring this one');
      return this.#settled;
    }
    if (outcome.kind === 'fail') {
      if (this.noRetry) outcome = { kind: 'permanent', error: outcome.error };
      else if (this.fn.hooks.onError) return (this.#settled = this.#judge(outcome, this.fn.hooks.onError).then((judged) => this.#write(judged)));
    }
    return (this.#settled = this.#write(outcome));
  }

  #write(outcome: Outcome): Promise<void> {
    this.#decided = true;
    this.#resolveDecided();
    const written = this.deps.writer.write(this.job, this.fn, outcome, this.log, () => this.#keepWriting());
    const after = this.fn.hooks.after;
    const end = written.finally(() => {
      // The lease is kept until here, not only while the handler runs: see LeaseKeeper.
      this.#untrack();
      this.#resolveWritten();
    });
    // The caller waits for the write alone; no `.then` is added per job without a hook.
    if (!after) return end as Promise<unknown> as Promise<void>;
    return end.then((result) => this.#after(after, result)).finally(() => this.#resolveDone());
  }

  /**
   * Asks the `onError` hook whether a failure is retried; false fails the job for good. The wait
   * ends if the signal aborts meanwhile (the timeout, a lost lease, shutdown): the retry then
   * stands, so a hook that hangs holds the job no longer than a handler would.
   */
  async #judge(outcome: Extract<Outcome, { kind: 'fail' }>, onError: NonNullable<FunctionHooks['onError']>): Promise<Outcome> {
    const signal = this.controller.signal;
    let onAbort: (() => void) | undefined;
    try {
      const verdict = Promise.resolve().then(() => onError(this.#context!, outcome.cause ?? outcome.error));
      // A timeout has already aborted the signal when its failure is judged; the hook then runs unbounded.
      const aborted = signal.aborted ? null : new Promise<typeof HOOK_ABORTED>((resolve) => signal.addEventListener('abort', (onAbort = () => resolve(HOOK_ABORTED)), { once: true }));
      const answer = await (aborted ? Promise.race([verdict, aborted]) : verdict);
      if (answer === HOOK_ABORTED) this.log().warn({ hook: 'onError' }, 'the attempt was aborted while the onError hook ran; the failure is retried as usual');
      else if (answer === false) return { kind: 'permanent', error: outcome.error };
    } catch (err) {
      this.log().error({ hook: 'onError', err: errorText(err).split('\n')[0] }, 'the onError hook failed; the failure is retried as usual');
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
    return outcome;
  }

  /** Runs the `after` hook; what it throws is logged and changes nothing. */
  async #after(after: NonNullable<FunctionHooks['after']>, outcome: JobOutcome): Promise<void> {
    try {
      await after(this.#context!, outcome);
    } catch (err) {
      this.log().error({ hook: 'after', outcome: outcome.kind, err: errorText(err).split('\n')[0] }, 'the after hook failed; the outcome stands');
    }
  }

  /**
   * settle() for callers that cannot wait on it: the lease keeper, a timer, the handler's end. The
   * writer logs and absorbs its own failures, so this should never reject; if it does, the error is
   * logged here instead of crashing the worker as an unhandled rejection (the job then runs again
   * when its lease expires, as after any unwritten outcome).
   */
  settleInBackground(outcome: Outcome): void {
    this.settle(outcome).catch((err: unknown) => this.log().error({ outcome: outcome.kind, err: (err as Error).message }, 'settling the attempt failed'));
  }

  abort(reason: AttemptAborted['reason'], message: string): void {
    if (!this.controller.signal.aborted) this.controller.abort(new AttemptAborted(reason, message));
  }

  /**
   * Whether a failed outcome write is worth another try. Not once PostgreSQL refused the token.
   * A lease that ran out on this worker's clock is no reason to stop: the grab token fences the
   * write in the database (a job taken back has a new token), and the scheduler leaves a lease
   * that ended during an outage alone until its restart grace has passed, so the write is retried
   * until about then.
   */
  #keepWriting(): boolean {
    if (this.#fenced) return false;
    return this.#expiredAt === null || performance.now() < this.#expiredAt + this.deps.outcomeGraceMs;
  }

  /** Hears the lease keeper; returns whether the job was fenced (the handler stopped, nothing written). */
  #leaseEnded(end: LeaseEnd): boolean {
    if (end.kind === 'expired' && this.#decided) {
      // Decided before the lease ran out: only the write is left, and the token fences it.
      this.#expiredAt = performance.now();
      this.log().warn({ lateMs: end.lateMs, retryForMs: this.deps.outcomeGraceMs }, 'lease ran out while the outcome was being written (PostgreSQL unreachable?); still writing it, fenced by the grab token');
      return false;
    }
    this.#fenced = true;
    if (end.kind === 'refused') {
      this.log().warn({}, 'lease lost (taken back or cancelled); abandoning the attempt');
      this.abort('lease lost', 'the lease was lost: the job was taken back or cancelled');
    } else {
      this.log().warn({ lateMs: end.lateMs }, 'lease ran out without a renewal (PostgreSQL unreachable?); fencing: handler aborted, no outcome will be written');
      this.abort('lease lost', `the lease ran out without a renewal (${end.lateMs} ms after its end on this worker's clock); the job may run elsewhere`);
    }
    if (!this.#settled) this.settleInBackground({ kind: 'lost' });
    else {
      // Refused: a write already under way (or an onError hook) may hang; nothing waits for it.
      this.#resolveWritten();
      this.#resolveDone();
    }
    return true;
  }

  context(siblings: readonly JobContext[]): JobContext {
    const job = this.job;
    const log = this.log;
    return (this.#context = {
      id: job.id,
      funcname: job.funcname,
      arg: job.arg,
      uniqkey: job.uniqkey,
      priority: job.priority,
      coalesce: job.coalesce,
      attempt: job.attempts,
      failures: job.failures,
      createdAt: job.createdAt,
      signal: this.controller.signal,
      get logger() {
        return log();
      },
      siblings,
      complete: (result) => this.settle({ kind: 'complete', result }),
      fail: (error) => this.settle({ kind: 'fail', error: errorText(error), cause: error }),
      permanentFailure: (error) => this.settle({ kind: 'permanent', error: errorText(error) }),
      decline: (runAfter = null) => this.settle({ kind: 'decline', runAfter }),
      replaceWith: (jobs) => this.settle({ kind: 'replace', jobs }),
      noRetry: () => {
        this.noRetry = true;
      },
      heartbeat: async () => {
        if (!(await this.deps.leases.renewNow(job.id))) this.abort('lease lost', 'the lease was lost');
      },
    });
  }
}

/** What the onError wait returns when the attempt's signal aborted first. */
const HOOK_ABORTED = Symbol('aborted');

/** What a sibling the handler left without an outcome gets when the handler ends with `outcome`. */
function siblingOutcome(outcome: Outcome): Outcome {
  switch (outcome.kind) {
    case 'complete':
      return { kind: 'complete', result: null, skipped: outcome.skipped };
    case 'replace':
      return { kind: 'complete', result: null };
    case 'lost':
      // The handler was stopped because the first job's lease ended; the siblings' may be fine.
      return { kind: 'decline', runAfter: null };
    default:
      return outcome;
  }
}

/** Starts running a claimed job with its coalesced siblings (none unless the function coalesces); see {@link RunningJob}. */
export function runJob(claim: Claim, siblings: readonly Claim[], fn: ResolvedFunction, deps: RunDeps): RunningJob {
  const main = new Attempt(claim.job, fn, claim.sentAt, deps);
  const others = siblings.map((s) => new Attempt(s.job, fn, s.sentAt, deps));
  const all = [main, ...others];
  const context = main.context(others.map((a) => a.context([])));

  // The handler's end settles the first job as it says, and each sibling it left unsettled alike
  // (for good, too, after the first job's noRetry; each sibling's onError is asked on its own).
  const finish = (outcome: Outcome): void => {
    if (outcome.kind === 'fail' && main.noRetry) outcome = { kind: 'permanent', error: outcome.error };
    if (!main.settled) main.settleInBackground(outcome);
    const rest = siblingOutcome(outcome);
    for (const a of others) if (!a.settled) a.settleInBackground(rest);
  };
  const abortAll = (reason: AttemptAborted['reason'], message: string): void => all.forEach((a) => a.abort(reason, message));
  main.controller.signal.addEventListener('abort', () => {
    const reason = main.controller.signal.reason as AttemptAborted;
    abortAll(reason.reason, reason.message);
  });

  let timer: NodeJS.Timeout | undefined;
  const timeoutMs = claim.job.timeoutMs ?? fn.timeoutMs;
  if (timeoutMs !== null) {
    timer = setTimeout(() => {
      const message = `timed out after ${timeoutMs} ms`;
      abortAll('timeout', message);
      finish({ kind: 'fail', error: message, cause: new AttemptAborted('timeout', message) });
    }, timeoutMs);
  }
  // The timeout bounds the whole attempt, until every job of it is decided: the before hook, the
  // handler and the onError hooks. A handler that settles its first job and then hangs on its
  // siblings is stopped too, so no sibling is renewed forever nor holds the slot.
  const decided = Promise.all(all.map((a) => a.decided)).then(() => undefined);
  // `decided` only ever resolves (its parts have no reject); the second handler satisfies the lint rule, never runs.
  decided.then(() => clearTimeout(timer), () => clearTimeout(timer));

  const before = fn.hooks.before;
  (async () => {
    try {
      if (before) {
        if ((await before(context)) === false) return finish({ kind: 'complete', result: null, skipped: true });
        // The hook settled the job itself (a verb), or the timeout or a lost lease did meanwhile: the
        // handler does not run, and siblings still unsettled go back unrun.
        if (main.settled) return finish({ kind: 'decline', runAfter: null });
      }
      const result = await fn.handler(context);
      finish({ kind: 'complete', result });
    } catch (err) {
      if (err instanceof PermanentFailure) finish({ kind: 'permanent', error: errorText(err) });
      else if (err instanceof Decline) finish({ kind: 'decline', runAfter: err.runAfter });
      else finish({ kind: 'fail', error: errorText(err), cause: err });
    }
    // The timer is cleared once every job is decided (above), not here: it bounds onError too.
  })().catch((err: unknown) => main.log().error({ err: (err as Error).message }, 'finishing the attempt failed'));

  const written = Promise.all(all.map((a) => a.written)).then(() => undefined);
  return {
    job: claim.job,
    decided,
    written,
    done: fn.hooks.after ? Promise.all(all.map((a) => a.done)).then(() => undefined) : written,
    giveBack: () => {
      abortAll('shutdown', 'the worker is shutting down');
      finish({ kind: 'decline', runAfter: null });
    },
  };
}
