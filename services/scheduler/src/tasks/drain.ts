/**
 * Runs a batched maintenance operation until a batch comes back short, so that one run after a
 * long outage neither holds thousands of row locks at once nor stops short of the backlog.
 */

/** Batches per run before yielding to the other tasks; the next run picks up the rest. */
const MAX_BATCHES = 100;

/** Calls `step(batch)` until it handles fewer than `batch` rows; returns the total handled. */
export async function drain(step: (batch: number) => Promise<number>, batch: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const handled = await step(batch);
    total += handled;
    if (handled < batch) break;
  }
  return total;
}
