/**
 * Runs one claimed job: builds the handler's context, bounds the attempt by its timeout, renews
 * the lease while the handler works, and turns what the handler did (a verb, a return value, a
 * throw) into exactly one outcome. The first outcome wins; anything the handler does after it
 * (say, finishing after its timeout) is ignored, because the job is no longer its to settle.
 */
import { Decline, PermanentFailure, type ClaimedJob, type JobStore, type Logger, type NewJob } from '@drover/core';
import type { JobContext, ResolvedFunction } from '../options.js';

/** What happened to the attempt. `lost`: the lease was lost, there is nothing left to write. */
export type Outcome =
  | { kind: 'complete'; result: unknown }
  | { kind: 'fail'; error: string }
  | { kind: 'permanent'; error: string }
  | { kind: 'decline'; runAfter: Date | null }
  | { kind: 'replace'; jobs: NewJob[] }
  | { kind: 'lost' };

/** Error text kept in the failure log: enough of the stack to debug, bounded so one bad job cannot bloat the table. */
const ERROR_TEXT_MAX = 8_000;

export function errorText(err: unknown): string {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
  return text.length > ERROR_TEXT_MAX ? `${text.slice(0, ERROR_TEXT_MAX)}…` : text;
}

/** Why a job's signal was aborted. */
export class AttemptAborted extends Error {
  constructor(readonly reason: 'timeout' | 'lease lost' | 'shutdown', message: string) {
    super(message);
    this.name = 'AttemptAborted';
  }
}

export interface RunningJob {
  job: ClaimedJob;
  /** Resolves once the attempt has an outcome (the handler is finished with the job), before it is written. */
  decided: Promise<void>;
  /** Settles once the attempt's outcome was written (or refused). */
  done: Promise<void>;
  /** Ends the attempt now, giving the job back without counting a failure (worker shutdown). */
  giveBack(): void;
}

export interface RunDeps {
  store: JobStore;
  logger: Logger;
  /** Writes an outcome; resolves when written or refused. `log` is the job's logger. */
  write(job: ClaimedJob, fn: ResolvedFunction, outcome: Outcome, log: () => Logger): Promise<void>;
}

/** Starts running a claimed job; see {@link RunningJob}. */
export function runJob(job: ClaimedJob, fn: ResolvedFunction, deps: RunDeps): RunningJob {
  const controller = new AbortController();
  // Made on first use: most jobs log nothing, and a child logger per job is measurable at thousands per second.
  let child: Logger | undefined;
  const log = (): Logger => (child ??= deps.logger.child({ jobId: job.id, funcname: job.funcname, attempt: job.attempts }));
  let settled: Promise<void> | null = null;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let resolveDecided!: () => void;
  const decided = new Promise<void>((resolve) => (resolveDecided = resolve));

  const timers: NodeJS.Timeout[] = [];
  const cleanup = (): void => timers.forEach((t) => clearTimeout(t));

  const settle = (outcome: Outcome): Promise<void> => {
    if (settled) {
      log().warn({ outcome: outcome.kind }, 'the job already has an outcome; ignoring this one');
      return settled;
    }
    cleanup();
    resolveDecided();
    settled = deps.write(job, fn, outcome, log).finally(resolveDone);
    return settled;
  };

  const abort = (reason: AttemptAborted['reason'], message: string): void => {
    if (!controller.signal.aborted) controller.abort(new AttemptAborted(reason, message));
  };

  const timeoutMs = job.timeoutMs ?? fn.timeoutMs;
  if (timeoutMs !== null) {
    timers.push(setTimeout(() => {
      abort('timeout', `timed out after ${timeoutMs} ms`);
      void settle({ kind: 'fail', error: `timed out after ${timeoutMs} ms` });
    }, timeoutMs));
  }

  // Renew the lease every third of it, so two renewals can fail before it runs out.
  const renew = (): void => {
    timers.push(setTimeout(() => {
      if (settled) return;
      deps.store.heartbeat([job], { leaseMs: fn.leaseMs }).then(
        ([result]) => {
          // The attempt ended while the heartbeat was in flight: nothing left to renew or to warn about.
          if (settled) return;
          if (result?.accepted) return renew();
          log().warn({}, 'lease lost (taken back or cancelled); abandoning the attempt');
          abort('lease lost', 'the lease was lost');
          void settle({ kind: 'lost' });
        },
        (err: unknown) => {
          if (settled) return;
          log().warn({ err: (err as Error).message }, 'lease renewal failed; will try again');
          renew();
        },
      );
    }, Math.floor(fn.leaseMs / 3)));
  };
  renew();

  const context: JobContext = {
    id: job.id,
    funcname: job.funcname,
    arg: job.arg,
    uniqkey: job.uniqkey,
    priority: job.priority,
    coalesce: job.coalesce,
    attempt: job.attempts,
    failures: job.failures,
    createdAt: job.createdAt,
    signal: controller.signal,
    get logger() {
      return log();
    },
    complete: (result) => settle({ kind: 'complete', result }),
    fail: (error) => settle({ kind: 'fail', error: errorText(error) }),
    permanentFailure: (error) => settle({ kind: 'permanent', error: errorText(error) }),
    decline: (runAfter = null) => settle({ kind: 'decline', runAfter }),
    replaceWith: (jobs) => settle({ kind: 'replace', jobs }),
    heartbeat: async () => {
      const [result] = await deps.store.heartbeat([job], { leaseMs: fn.leaseMs });
      if (!result?.accepted) abort('lease lost', 'the lease was lost');
    },
  };

  void (async () => {
    try {
      const result = await fn.handler(context);
      if (!settled) await settle({ kind: 'complete', result });
    } catch (err) {
      if (settled) return;
      if (err instanceof PermanentFailure) await settle({ kind: 'permanent', error: errorText(err) });
      else if (err instanceof Decline) await settle({ kind: 'decline', runAfter: err.runAfter });
      else await settle({ kind: 'fail', error: errorText(err) });
    }
  })();

  return {
    job,
    decided,
    done,
    giveBack: () => {
      abort('shutdown', 'the worker is shutting down');
      void settle({ kind: 'decline', runAfter: null });
    },
  };
}
