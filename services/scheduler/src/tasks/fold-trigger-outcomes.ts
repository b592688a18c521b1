/**
 * Folds the outcomes of triggered jobs (completed, failed for good) into their triggers' state.
 * The statements that finish jobs only append an outcome row, so a completion never touches a
 * trigger; the state lags the outcome by at most a scheduler pass.
 */
import type { Logger, SchedulerStore } from '@drover/core';
import { drain } from './drain.js';

/** Folds every pending outcome in batches of `batch`; returns how many. */
export async function foldTriggerOutcomes(store: SchedulerStore, logger: Logger, batch = 1000): Promise<number> {
  const total = await drain((n) => store.foldTriggerOutcomes(n), batch);
  if (total > 0) logger.debug({ folded: total }, 'folded trigger outcomes');
  return total;
}
