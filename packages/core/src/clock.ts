/**
 * The one source of time. Everything that decides by time (backoff, leases, due jobs, triggers)
 * asks a Clock, so tests move time by hand instead of sleeping.
 */

/** Tells the time. */
export interface Clock {
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/** A clock that only moves when told to; for tests and simulations. */
export class ManualClock implements Clock {
  #ms: number;

  constructor(start: Date | number = Date.UTC(2030, 0, 1)) {
    this.#ms = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#ms);
  }

  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): Date {
    this.#ms += ms;
    return this.now();
  }

  /** Jumps to an absolute time. */
  set(to: Date | number): Date {
    this.#ms = typeof to === 'number' ? to : to.getTime();
    return this.now();
  }
}
