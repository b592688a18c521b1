/**
 * @drover/worker — the worker shim: consume a function's queue, claim the job in PostgreSQL with
 * a lease, run the handler, write the outcome straight to PostgreSQL (fenced by the grab token),
 * then ack.
 *
 * @example
 * ```ts
 * import { createWorker } from '@drover/worker';
 *
 * const worker = createWorker({
 *   store, broker,
 *   functions: {
 *     'email.send': async (job) => sendMail(job.arg),               // the return value is the result
 *     'report.build': { handler: buildReport, slots: 2, timeoutMs: 60_000, retryDelayMs: 30_000, maxExecCount: 3 },
 *     'sync.pull': {
 *       handler: pull,
 *       before: (job) => !isPaused(job.arg),                     // false: completed unrun (skipped)
 *       onError: (job, err) => !(err instanceof AuthError),       // false: failed for good, no retry
 *       after: (job, outcome) => metrics.count(outcome.kind),     // once the outcome is written
 *     },
 *   },
 * });
 * await worker.start();
 * process.once('SIGTERM', () => void worker.stop());
 * ```
 */
export { createWorker, DEFAULT_ACK_LONG_RUNNING_AFTER_MS, DEFAULT_OUTCOME_GRACE_MS, Worker, type WorkerOptions, type WorkerStats } from './worker.js';
export { DEFAULT_LEASE_MS, DEFAULT_SLOTS, type FlowKey, type FunctionHooks, type FunctionOptions, type Handler, type JobContext, type JobOutcome } from './options.js';
export { AttemptAborted } from './internal/run-job.js';
export { WORKER_VERSION } from './internal/version.js';
