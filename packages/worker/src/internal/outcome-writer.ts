/**
 * Writes an attempt's outcome to PostgreSQL, fenced by the grab token, retrying while the database
 * is away. An outcome the store cannot hold (a result with a NUL, a replacement job that is not
 * valid, a bad decline time) is the handler's failure: it is written as one failed attempt with an
 * error naming the field, never left to the lease, which would run the finished job again after
 * every expiry.
 */
import { ValidationError, backoffDelayMs, type ClaimedJob, type Logger, type NewJob, type WorkerStore } from '@drover/core';
import type { JobOutcome, ResolvedFunction } from '../options.js';
import { retrying } from './retrying.js';
import type { RoundTrips } from './round-trips.js';

/**
 * What happened to the attempt. `lost`: the lease was lost, there is nothing left to write.
 * `skipped`: the before hook skipped the job. `cause`: what was thrown, for the onError hook.
 */
export type Outcome =
  | { kind: 'complete'; result: unknown; skipped?: boolean }
  | { kind: 'fail'; error: string; cause?: unknown }
  | { kind: 'permanent'; error: string }
  | { kind: 'decline'; runAfter: Date | null }
  | { kind: 'replace'; jobs: readonly NewJob[] }
  | { kind: 'lost' };

/** Counters the writer keeps for the worker's stats. */
export interface OutcomeCounts {
  /** Jobs written as completed, the replaced and the skipped included. */
  completed: number;
  /** Jobs a `before` hook skipped (written as completed, unrun). */
  skipped: number;
  failed: number;
  declined: number;
}

/** Error text kept in the failure log: enough of the stack to debug, bounded so one bad job cannot bloat the table. */
const ERROR_TEXT_MAX = 8_000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A thrown value as failure-log text: bounded, and with what a PostgreSQL text column refuses
 * (NUL, lone UTF-16 surrogates) replaced, so a handler's error message can always be recorded.
 */
export function errorText(err: unknown): string {
  let text: string;
  try {
    text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    text = Object.prototype.toString.call(err);
  }
  if (text.length > ERROR_TEXT_MAX) text = `${text.slice(0, ERROR_TEXT_MAX)}…`;
  return text.replaceAll('\u0000', '\\u0000').replace(LONE_SURROGATE, '\uFFFD');
}

/** A refusal that is the outcome's fault, not the database's: our own validation, or PostgreSQL's data exceptions (SQLSTATE class 22). */
function isBadOutcome(err: unknown): err is Error {
  if (err instanceof ValidationError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

export class OutcomeWriter {
  constructor(
    private readonly store: WorkerStore,
    private readonly roundTrips: RoundTrips,
    private readonly logger: Logger,
    private readonly random: () => number,
    private readonly counts: OutcomeCounts,
  ) {}

  /**
   * Writes `outcome` for `job`; resolves once written, refused or given up, with what became of it
   * (for the `after` hook). Retries infrastructure errors while `keepGoing` holds (it stops holding
   * when the job is fenced).
   */
  async write(job: ClaimedJob, fn: ResolvedFunction, outcome: Outcome, log: () => Logger, keepGoing: () => boolean): Promise<JobOutcome> {
    if (outcome.kind === 'lost') return LOST;
    try {
      const written = await this.#writeOnce(job, fn, outcome, log, keepGoing);
      if (!written.written) log().warn({ outcome: outcome.kind }, 'outcome refused: the lease was lost; the job was taken back or cancelled');
      return written;
    } catch (err) {
      if (isBadOutcome(err) && outcome.kind !== 'fail' && outcome.kind !== 'permanent') {
        const what = outcome.kind === 'complete' ? 'result' : outcome.kind === 'replace' ? 'replacement jobs' : 'decline';
        return this.write(job, fn, { kind: 'fail', error: errorText(`the handler's ${what} cannot be stored: ${err.message}`) }, log, keepGoing);
      }
      // The job stays running until its lease expires, then runs again: at least once, never lost.
      log().error({ outcome: outcome.kind, err: (err as Error).message }, 'could not write the outcome; the lease will expire and the job will run again');
      return unwritten(outcome);
    }
  }

  async #writeOnce(job: ClaimedJob, fn: ResolvedFunction, outcome: Exclude<Outcome, { kind: 'lost' }>, log: () => Logger, keepGoing: () => boolean): Promise<JobOutcome> {
    const keep = fn.keepForMs === undefined ? {} : { keepForMs: fn.keepForMs };
    const retry = <T>(op: () => Promise<T>): Promise<T> => retrying(op, outcome.kind, this.logger, keepGoing);
    switch (outcome.kind) {
      case 'complete': {
        const { accepted } = await retry(() => this.roundTrips.complete({ id: job.id, grabToken: job.grabToken, result: outcome.result, ...keep }));
        const skipped = outcome.skipped === true;
        if (accepted) {
          this.counts.completed++;
          if (skipped) this.counts.skipped++;
        }
        return { kind: 'completed', written: accepted, result: outcome.result, skipped };
      }
      case 'fail':
      case 'permanent': {
        const result = await retry(() =>
          this.store.fail({
            id: job.id,
            grabToken: job.grabToken,
            error: outcome.error,
            permanent: outcome.kind === 'permanent',
            retryDelayMs: backoffDelayMs(job.failures + 1, fn.policy, this.random),
            ...(fn.maxRetriesOverride === undefined ? {} : { maxRetries: fn.maxRetriesOverride }),
          }),
        );
        if (result.accepted) this.counts.failed++;
        log().info({ outcome: result.outcome, failures: result.failures, runAfter: result.runAfter, error: outcome.error.split('\n')[0] }, 'attempt failed');
        if (!result.accepted) return unwritten(outcome);
        return { kind: 'failed', written: true, error: outcome.error, retry: result.outcome === 'retry', runAfter: result.runAfter };
      }
      case 'decline': {
        const { accepted } = await retry(() => this.store.decline({ id: job.id, grabToken: job.grabToken, runAfter: outcome.runAfter }));
        if (accepted) this.counts.declined++;
        return { kind: 'declined', written: accepted, runAfter: outcome.runAfter };
      }
      case 'replace': {
        const { accepted } = await retry(() => this.store.replaceWith(job, outcome.jobs, keep));
        if (accepted) this.counts.completed++;
        return { kind: 'replaced', written: accepted, jobs: outcome.jobs };
      }
    }
  }
}

const LOST: JobOutcome = Object.freeze({ kind: 'lost', written: false });

/** What the `after` hook is told of an outcome that was refused or could not be written. */
function unwritten(outcome: Exclude<Outcome, { kind: 'lost' }>): JobOutcome {
  switch (outcome.kind) {
    case 'complete':
      return { kind: 'completed', written: false, result: outcome.result, skipped: outcome.skipped === true };
    case 'fail':
    case 'permanent':
      return { kind: 'failed', written: false, error: outcome.error, retry: outcome.kind === 'fail', runAfter: null };
    case 'decline':
      return { kind: 'declined', written: false, runAfter: outcome.runAfter };
    case 'replace':
      return { kind: 'replaced', written: false, jobs: outcome.jobs };
  }
}
