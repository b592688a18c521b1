/**
 * Slows down guessing: after a few failed `hello`s from one address, that address's next hellos
 * are refused at once, without spending a token hash on them, until its window passes.
 *
 * rate-limiter-flexible's memory limiter keeps the counts: it expires each address's entry with
 * its window, so the map holds only addresses that failed within the last window, and the same
 * limiter shape runs on Redis when the fleet shares limits (issue 12).
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';

export interface HelloThrottleOptions {
  /** Failed hellos an address may have within the window before it is refused outright. */
  maxFailures?: number;
  /** The window, in seconds. */
  windowSeconds?: number;
}

/**
 * 5 failures a minute: a person who mistyped a token a few times is not locked out, while a guesser
 * gets 5 tries a minute per address, hopeless against a random token.
 */
export const DEFAULT_HELLO_MAX_FAILURES = 5;
export const DEFAULT_HELLO_WINDOW_SECONDS = 60;

export class HelloThrottle {
  readonly #limiter: RateLimiterMemory;
  readonly #maxFailures: number;

  constructor(options: HelloThrottleOptions = {}) {
    this.#maxFailures = options.maxFailures ?? DEFAULT_HELLO_MAX_FAILURES;
    this.#limiter = new RateLimiterMemory({ points: this.#maxFailures, duration: options.windowSeconds ?? DEFAULT_HELLO_WINDOW_SECONDS });
  }

  /** How long `address` must wait before its next hello is heard; 0 when it may try now. */
  async waitMs(address: string): Promise<number> {
    const state = await this.#limiter.get(address);
    if (!state || state.consumedPoints < this.#maxFailures) return 0;
    return Math.max(1, state.msBeforeNext);
  }

  /** Counts a failed hello against `address`. */
  async failed(address: string): Promise<void> {
    await this.#limiter.penalty(address, 1);
  }
}
