/**
 * Deletes finished jobs whose exit status has been kept long enough, with their failure logs.
 */
import type { JobStore, Logger } from '@drover/core';

const MAX_BATCHES = 100;

export async function trimFinishedJobs(store: JobStore, logger: Logger, batch = 1000): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const trimmed = await store.trimFinished(batch);
    total += trimmed;
    if (trimmed < batch) break;
  }
  if (total > 0) logger.info({ trimmed: total }, 'trimmed finished jobs');
  return total;
}
