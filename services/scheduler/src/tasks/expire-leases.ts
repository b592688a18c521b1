/**
 * Takes back jobs whose lease ended (their worker died or hung): each counts as a failed attempt
 * with the reason `lease expired` and backs off, or fails for good if it was its last. Fenced by
 * the grab token, so with several schedulers each lease is taken back exactly once.
 */
import type { Logger, SchedulerStore } from '@drover/core';
import { drain } from './drain.js';

export async function expireLeases(store: SchedulerStore, logger: Logger, batch = 1000): Promise<number> {
  let taken = 0;
  await drain(async (n) => {
    const results = await store.expireLeases(n);
    for (const r of results.filter((x) => x.accepted)) {
      taken++;
      logger.warn({ jobId: r.id, outcome: r.outcome, failures: r.failures, runAfter: r.runAfter }, 'lease expired; job taken back');
    }
    return results.length;
  }, batch);
  return taken;
}
