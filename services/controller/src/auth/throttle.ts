/**
 * Slows down repeated authentication failures from one address: after `failures` failures within
 * `windowMs`, the address is refused without even checking its credentials for `blockMs`. Built on
 * rate-limiter-flexible, whose other limiters (Redis among them) share its interface: pass one as
 * `limiter` to count failures across controllers.
 */
import rateLimiterFlexible, { type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';

// The package is CommonJS; Node's named-export detection misses some of its exports.
const { RateLimiterMemory } = rateLimiterFlexible;

export interface ThrottleOptions {
  /**
   * Failures allowed per window before the address is blocked. 10 a minute never stops a person
   * who mistypes a token a few times, and holds a guesser to 10 tries a minute (plus the block).
   */
  failures?: number;
  /** The window failures are counted in, ms (default one minute). */
  windowMs?: number;
  /** How long a blocked address is refused, ms (default one minute). */
  blockMs?: number;
  /** A limiter of one's own (e.g. RateLimiterRedis, shared by every controller); `failures` is then its `points`. */
  limiter?: RateLimiterAbstract;
}

const DEFAULT_FAILURES = 10;
const DEFAULT_WINDOW_MS = 60_000;
const DEFAULT_BLOCK_MS = 60_000;

function isLimiterAnswer(value: unknown): value is RateLimiterRes {
  return typeof value === 'object' && value !== null && 'msBeforeNext' in value;
}

/** Counts authentication failures per address; shared by the HTTP API and the JSON-RPC `hello`. */
export class FailureThrottle {
  readonly #limiter: RateLimiterAbstract;
  readonly #failures: number;

  constructor(options: ThrottleOptions = {}) {
    this.#failures = options.failures ?? DEFAULT_FAILURES;
    this.#limiter =
      options.limiter ??
      new RateLimiterMemory({
        keyPrefix: 'drover-auth',
        points: this.#failures,
        duration: Math.ceil((options.windowMs ?? DEFAULT_WINDOW_MS) / 1000),
        blockDuration: Math.ceil((options.blockMs ?? DEFAULT_BLOCK_MS) / 1000),
      });
  }

  /** How long the address must still wait before its credentials are checked again, ms; 0 when it may try now. */
  async blockedFor(address: string): Promise<number> {
    const state = await this.#limiter.get(address);
    return state && state.consumedPoints > this.#failures ? Math.max(1, state.msBeforeNext) : 0;
  }

  /** Records a failure; returns how long the address is now blocked, ms (0 when not yet). */
  async failed(address: string): Promise<number> {
    try {
      await this.#limiter.consume(address);
      return 0;
    } catch (err) {
      // The limiter rejects with its answer when the address went over; anything else is its own failure.
      if (isLimiterAnswer(err)) return Math.max(1, err.msBeforeNext);
      throw err;
    }
  }
}
