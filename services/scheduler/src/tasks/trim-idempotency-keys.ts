/**
 * Deletes idempotency keys past their retention, so the table holds about one retention period of
 * keyed enqueues; an insert with a trimmed key creates a new job.
 */
import type { Logger, SchedulerStore } from '@drover/core';
import { drain } from './drain.js';

/** Trims expired idempotency keys in batches of `batch`; returns how many were deleted. */
export async function trimIdempotencyKeys(store: SchedulerStore, logger: Logger, batch = 1000): Promise<number> {
  const total = await drain((n) => store.trimIdempotencyKeys(n), batch);
  if (total > 0) logger.info({ trimmed: total }, 'trimmed idempotency keys');
  return total;
}
