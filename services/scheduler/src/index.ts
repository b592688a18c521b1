/**
 * @drover/scheduler — owns time: fires due triggers (each due time exactly once) and folds their
 * jobs' outcomes into their state, promotes due jobs, takes back expired leases, trims finished
 * jobs and expired idempotency keys.
 * Safe to run several at once.
 *
 * @example
 * ```ts
 * import { createScheduler } from '@drover/scheduler';
 *
 * const scheduler = createScheduler({ store });
 * await scheduler.start();
 * process.once('SIGTERM', () => void scheduler.stop());
 * ```
 */
export { Scheduler, createScheduler, type SchedulerOptions } from './scheduler.js';
export { expireLeases } from './tasks/expire-leases.js';
export { fireDueTriggers } from './tasks/fire-triggers.js';
export { foldTriggerOutcomes } from './tasks/fold-trigger-outcomes.js';
export { promoteDueJobs } from './tasks/promote-due.js';
export { trimFinishedJobs } from './tasks/trim-finished.js';
export { trimIdempotencyKeys } from './tasks/trim-idempotency-keys.js';
