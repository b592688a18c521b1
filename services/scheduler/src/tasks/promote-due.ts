/**
 * Promotes every scheduled job that is due to ready, in bounded batches, so that one run after a
 * long outage neither holds thousands of row locks nor stops short of the backlog.
 */
import type { JobStore, Logger } from '@drover/core';

/** Batches per run before yielding to the other tasks; the next run picks up the rest. */
const MAX_BATCHES = 100;

export async function promoteDueJobs(store: JobStore, logger: Logger, batch = 1000): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const promoted = await store.promoteDue(batch);
    total += promoted;
    if (promoted < batch) break;
  }
  if (total > 0) logger.debug({ promoted: total }, 'promoted due jobs');
  return total;
}
