/**
 * Deletes finished jobs whose exit status has been kept long enough, with their failure logs.
 */
import type { Logger, SchedulerStore } from '@drover/core';
import { drain } from './drain.js';

export async function trimFinishedJobs(store: SchedulerStore, logger: Logger, batch = 1000): Promise<number> {
  const total = await drain((n) => store.trimFinished(n), batch);
  if (total > 0) logger.info({ trimmed: total }, 'trimmed finished jobs');
  return total;
}
