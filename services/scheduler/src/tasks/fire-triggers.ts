/**
 * Fires due triggers: each due trigger's jobs (as its catch-up policy decides) and its next fire
 * time commit in one transaction, and a trigger another scheduler holds is skipped, so every due
 * time fires exactly once however many schedulers run.
 */
import type { FireResult, Logger, SchedulerStore } from '@drover/core';
import { drain } from './drain.js';

/** Fires due triggers in batches of `batch` until none is left; returns what was done in total. */
export async function fireDueTriggers(store: SchedulerStore, logger: Logger, batch = 100): Promise<FireResult> {
  const total: FireResult = { triggers: 0, jobs: 0 };
  await drain(async (n) => {
    const fired = await store.fireTriggers(n);
    total.triggers += fired.triggers;
    total.jobs += fired.jobs;
    return fired.triggers;
  }, batch);
  if (total.triggers > 0) logger.debug({ triggers: total.triggers, jobs: total.jobs }, 'fired due triggers');
  return total;
}
