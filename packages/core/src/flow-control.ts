/**
 * The flow-control port: fleet-wide rate limits and per-key concurrency caps, as the worker shim
 * asks for them. Redis implements it for a fleet and memory for one process (`drover dev`); both
 * pass one conformance suite (packages/flow-control/test/conformance.ts).
 *
 * Everything held here is disposable, as DESIGN.md asks of Redis: a lost start or place only lets
 * a job run a little early, and no job depends on it to survive. Time is the store's where it has
 * one (Redis's clock, one for the whole fleet), or an injected Clock (memory, tests).
 */

/** A yes, or "not now, retry in `retryAfterMs`". */
export type FlowAnswer = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Of `count` starts asked for at once, the first `granted`; when fewer than asked, `retryAfterMs`
 * says when the next one may be granted (it is 0 when all were). `spare`: starts granted beyond
 * those asked for, for deliveries still to come (see {@link FlowControl.takeStarts}).
 */
export interface StartsAnswer {
  granted: number;
  retryAfterMs: number;
  spare: number;
}

/** At most `max` starts in any window of `perMs` milliseconds. */
export interface RateLimit {
  max: number;
  perMs: number;
}

/** A held place under a cap: the cap's bucket and who holds it (a job attempt). */
export interface Place {
  bucket: string;
  holder: string;
}

/**
 * Fleet-wide flow control. Buckets are opaque names the caller builds (a function, or a function
 * and a key); two callers naming the same bucket share its limit.
 */
export interface FlowControl {
  /**
   * Takes one start under `limit` in `bucket`: yes while fewer than `limit.max` starts were taken
   * in the last `limit.perMs`, else how long until the oldest of them leaves the window. A refusal
   * takes nothing.
   */
  takeStart(bucket: string, limit: RateLimit): Promise<FlowAnswer>;
  /**
   * Takes up to `count` starts under `limit` in `bucket` in one call, as many as the window has
   * room for (all counted at the same instant), for a caller holding several deliveries: one round
   * trip to the store per batch instead of one per start. A `count` below 1 takes nothing.
   * {@link FlowControl.takeStart} is `takeStarts(bucket, limit, 1)`, answered in its own shape.
   *
   * `spare` asks for that many more starts, for deliveries still to come, granted (all of them,
   * counted now like the rest) only when every start asked was and the window stays at most a
   * quarter full with them: a limit far above the rate is then asked once per batch of spares
   * rather than once per burst, and a limit the fleet comes near is asked for each start exactly.
   */
  takeStarts(bucket: string, limit: RateLimit, count: number, spare?: number): Promise<StartsAnswer>;
  /**
   * Takes a place for `holder` under a cap of `cap` places in `bucket`, held for `leaseMs` unless
   * renewed: a holder that dies gives its place back when the lease runs out. Taking a place the
   * holder already has renews it. A refusal says when the first place held now runs out at the latest.
   */
  takePlace(bucket: string, holder: string, cap: number, leaseMs: number): Promise<FlowAnswer>;
  /** Holds these places for another `leaseMs` (and takes them back if the store forgot them). */
  renewPlaces(places: readonly Place[], leaseMs: number): Promise<void>;
  /** Gives a place back at once. Giving back a place not held does nothing. */
  releasePlace(place: Place): Promise<void>;
  /** False while the store is known to be unreachable: a call would fail with {@link FlowControlUnavailable}. */
  available(): boolean;
  close(): Promise<void>;
}

/** The flow-control store could not answer (Redis unreachable): the caller fails closed or open, as configured. */
export class FlowControlUnavailable extends Error {
  override readonly name = 'FlowControlUnavailable';
}
