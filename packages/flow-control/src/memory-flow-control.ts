/**
 * Flow control in one process, for embedded mode (`drover dev`) and tests: the same answers as
 * Redis gives a fleet, from two maps. Limits hold only within this process.
 */
import { systemClock, type Clock, type FlowAnswer, type FlowControl, type Place, type RateLimit, type StartsAnswer } from '@drover/core';

export class MemoryFlowControl implements FlowControl {
  /** Start times in the window, oldest first, by bucket. */
  readonly #starts = new Map<string, number[]>();
  /** Lease ends by holder, by bucket. */
  readonly #places = new Map<string, Map<string, number>>();
  readonly #clock: Clock;
  #closed = false;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  async takeStart(bucket: string, limit: RateLimit): Promise<FlowAnswer> {
    const { granted, retryAfterMs } = await this.takeStarts(bucket, limit, 1);
    return granted === 1 ? { ok: true } : { ok: false, retryAfterMs };
  }

  takeStarts(bucket: string, limit: RateLimit, count: number, spare = 0): Promise<StartsAnswer> {
    const asked = Math.floor(count);
    if (!(asked >= 1)) return Promise.resolve({ granted: 0, retryAfterMs: 0, spare: 0 });
    const now = this.#now();
    const starts = (this.#starts.get(bucket) ?? []).filter((t) => t > now - limit.perMs);
    this.#starts.set(bucket, starts);
    const granted = Math.max(0, Math.min(asked, limit.max - starts.length));
    // As the Redis script: spares all or none, only with every start asked, up to a quarter of the window.
    let extra = Math.max(0, Math.floor(spare) || 0);
    if (granted < asked || starts.length + granted + extra > limit.max / 4) extra = 0;
    for (let i = 0; i < granted + extra; i++) starts.push(now);
    if (granted === asked) return Promise.resolve({ granted, retryAfterMs: 0, spare: extra });
    return Promise.resolve({ granted, retryAfterMs: Math.max(1, starts[0]! + limit.perMs - now), spare: 0 });
  }

  takePlace(bucket: string, holder: string, cap: number, leaseMs: number): Promise<FlowAnswer> {
    const now = this.#now();
    const places = this.#live(bucket, now);
    if (places.has(holder) || places.size < cap) {
      places.set(holder, now + leaseMs);
      return Promise.resolve({ ok: true });
    }
    return Promise.resolve({ ok: false, retryAfterMs: Math.max(1, Math.min(...places.values()) - now) });
  }

  renewPlaces(places: readonly Place[], leaseMs: number): Promise<void> {
    const now = this.#now();
    for (const p of places) this.#live(p.bucket, now).set(p.holder, now + leaseMs);
    return Promise.resolve();
  }

  releasePlace(place: Place): Promise<void> {
    this.#places.get(place.bucket)?.delete(place.holder);
    return Promise.resolve();
  }

  available(): boolean {
    return !this.#closed;
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #now(): number {
    return this.#clock.now().getTime();
  }

  /** The bucket's places, those whose lease ran out dropped first. */
  #live(bucket: string, now: number): Map<string, number> {
    let places = this.#places.get(bucket);
    if (!places) this.#places.set(bucket, (places = new Map<string, number>()));
    for (const [holder, until] of places) if (until <= now) places.delete(holder);
    return places;
  }
}
