/**
 * Takes back jobs whose lease ended (their worker died or hung): each counts as a failed attempt
 * with the reason `lease expired` and backs off, or fails for good if it was its last. Fenced by
 * the grab token, so with several schedulers each lease is taken back exactly once.
 */
import type { JobStore, Logger } from '@drover/core';

const MAX_BATCHES = 100;

export async function expireLeases(store: JobStore, logger: Logger, batch = 1000): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const results = await store.expireLeases(batch);
    const taken = results.filter((r) => r.accepted);
    total += taken.length;
    for (const r of taken) logger.warn({ jobId: r.id, outcome: r.outcome, failures: r.failures, runAfter: r.runAfter }, 'lease expired; job taken back');
    if (results.length < batch) break;
  }
  return total;
}
