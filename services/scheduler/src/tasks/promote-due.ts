/**
 * Promotes every scheduled job that is due to ready (each promotion also wakes the relay).
 */
import type { Logger, SchedulerStore } from '@drover/core';
import { drain } from './drain.js';

export async function promoteDueJobs(store: SchedulerStore, logger: Logger, batch = 1000): Promise<number> {
  const total = await drain((n) => store.promoteDue(n), batch);
  if (total > 0) logger.debug({ promoted: total }, 'promoted due jobs');
  return total;
}
