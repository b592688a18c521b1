/**
 * Deletes finished jobs whose exit status has been kept long enough, with their failure logs.
 */
import type { JobStore, Logger } from '@drover/core';
import { drain } from './drain.js';

export async function trimFinishedJobs(store: JobStore, logger: Logger, batch = 1000): Promise<number> {
  const total = await drain((n) => store.trimFinished(n), batch);
  if (total > 0) logger.info({ trimmed: total }, 'trimmed finished jobs');
  return total;
}
