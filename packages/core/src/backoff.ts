/**
 * When a failed job runs again. After the n-th failure the delay is
 * `min(base · 2^(n-1), cap)` with base 2 minutes and cap 1 day (Garivini's schedule), then
 * spread by ±jitter so that jobs which failed together do not come back together.
 */
import { DEFAULT_MAX_RETRIES, MAX_RETRIES_LIMIT } from './job.js';
import { ValidationError } from './errors.js';

/** How a function's failed jobs are retried. */
export interface RetryPolicy {
  /** Failed attempts retried before the job fails for good. */
  maxRetries: number;
  /** First delay of the exponential schedule, in ms. */
  baseDelayMs: number;
  /** Ceiling of the exponential schedule, in ms. */
  maxDelayMs: number;
  /** A fixed delay for every retry, in ms, replacing the exponential schedule (cozy-stack's retry delay). */
  fixedDelayMs: number | null;
  /** Relative spread applied to every delay: 0.1 means ±10 %. */
  jitter: number;
}

/** Garivini's schedule: 2 minutes doubling up to 1 day, ±10 % jitter. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: DEFAULT_MAX_RETRIES,
  baseDelayMs: 2 * 60_000,
  maxDelayMs: 24 * 60 * 60_000,
  fixedDelayMs: null,
  jitter: 0.1,
});

/** Builds a policy from overrides, rejecting values that would make retries meaningless. */
export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  const check = (field: keyof RetryPolicy, ok: boolean, problem: string): void => {
    if (!ok) throw new ValidationError(field, problem);
  };
  check('maxRetries', Number.isInteger(policy.maxRetries) && policy.maxRetries >= 0 && policy.maxRetries <= MAX_RETRIES_LIMIT, `must be an integer from 0 to ${MAX_RETRIES_LIMIT}`);
  check('baseDelayMs', Number.isFinite(policy.baseDelayMs) && policy.baseDelayMs >= 0, 'must be a non-negative number');
  check('maxDelayMs', Number.isFinite(policy.maxDelayMs) && policy.maxDelayMs >= policy.baseDelayMs, 'must be a number no smaller than baseDelayMs');
  check('fixedDelayMs', policy.fixedDelayMs === null || (Number.isFinite(policy.fixedDelayMs) && policy.fixedDelayMs >= 0), 'must be null or a non-negative number');
  check('jitter', Number.isFinite(policy.jitter) && policy.jitter >= 0 && policy.jitter < 1, 'must be a number in [0, 1)');
  return policy;
}

/**
 * Delay before the next attempt after the `failure`-th failure (1-based), in whole milliseconds.
 * `random` returns a number in [0, 1); 0.5 gives the undisturbed value. Jitter applies after the
 * cap so that jobs at the cap still spread out.
 */
export function backoffDelayMs(failure: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY, random: () => number = Math.random): number {
  if (!Number.isInteger(failure) || failure < 1) throw new ValidationError('failure', 'must be an integer of at least 1');
  const raw = policy.fixedDelayMs ?? Math.min(policy.baseDelayMs * 2 ** Math.min(failure - 1, 60), policy.maxDelayMs);
  const spread = 1 + policy.jitter * (2 * random() - 1);
  return Math.round(raw * spread);
}
