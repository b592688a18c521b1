/**
 * Retrying a round trip while PostgreSQL is away: claims, outcome writes and their fallbacks all
 * go through here, so a restart of the database delays work instead of losing it.
 */
import { isRetryableInfrastructureError, type Logger } from '@drover/core';

/** Quick at first (a dropped connection is usually back at once), then every 5 s. */
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 5_000;
/** Two minutes covers a restart or a failover; past that the lease (or the caller) decides. */
const RETRY_TOTAL_MS = 120_000;

/** Runs `op`, retrying retryable infrastructure errors with backoff while `keepGoing` holds, up to a bound. */
export async function retrying<T>(op: () => Promise<T>, what: string, logger: Logger, keepGoing: () => boolean = () => true): Promise<T> {
  const deadline = Date.now() + RETRY_TOTAL_MS;
  for (let delay = RETRY_MIN_MS; ; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
    try {
      return await op();
    } catch (err) {
      if (!isRetryableInfrastructureError(err) || !keepGoing() || Date.now() + delay > deadline) throw err;
      logger.warn({ err: (err as Error).message, retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
