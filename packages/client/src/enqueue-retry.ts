/**
 * Enqueue retries that cannot duplicate: every job gets an idempotency key once, before the first
 * attempt, and every attempt carries the same key. An attempt whose connection died at commit may
 * have committed; its retry then finds the key and returns the job that exists.
 */
import { randomUUID } from 'node:crypto';
import { isRetryableInfrastructureError, type NewJob } from '@drover/core';

/** How long the client keeps trying, and its backoff. */
export interface EnqueueRetryOptions {
  /** Stop retrying after this long, ms. */
  windowMs?: number;
  /** First delay between attempts, ms; doubles up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * A PostgreSQL restart here takes a few seconds and a failover up to half a minute; 30 s of
 * retries rides out either, while a producer that waits longer should hear of the outage.
 */
const DEFAULT_WINDOW_MS = 30_000;
/** Quick for a blip (one dropped connection), capped so a returning database is found within 2 s. */
const DEFAULT_MIN_DELAY_MS = 100;
const DEFAULT_MAX_DELAY_MS = 2_000;

/**
 * The job with an idempotency key of its own: the caller's, or a fresh UUID. Anything but an
 * object is passed through for the store's validation to refuse.
 */
export function withIdempotencyKey(job: NewJob): NewJob {
  if (typeof job !== 'object' || job === null || Array.isArray(job)) return job;
  return job.idempotencyKey == null ? { ...job, idempotencyKey: randomUUID() } : job;
}

/**
 * Runs `attempt` until it succeeds, fails for a reason that will not pass by itself, or the
 * window ends (then the last error is thrown).
 */
export async function retryEnqueue<T>(attempt: () => Promise<T>, options: EnqueueRetryOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.windowMs ?? DEFAULT_WINDOW_MS);
  for (let delay = options.minDelayMs ?? DEFAULT_MIN_DELAY_MS; ; delay = Math.min(delay * 2, options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS)) {
    try {
      return await attempt();
    } catch (err) {
      if (!isRetryableInfrastructureError(err) || Date.now() + delay > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
