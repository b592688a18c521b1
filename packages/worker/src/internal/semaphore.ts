/**
 * A counting semaphore. The worker holds one per subscription (a function, or a slot group), so
 * its concurrency holds even when the broker's prefetch no longer bounds it: a long job's message
 * is acked while the job still runs (see the delivery loop), and quorum queues cannot share one
 * prefetch between the queues of a slot group.
 */
export class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(slots: number) {
    this.#free = slots;
  }

  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  /** Like acquire, but gives up after `timeoutMs`: false when no slot came in time (nothing was taken). */
  async tryAcquire(timeoutMs: number): Promise<boolean> {
    if (this.#free > 0) {
      this.#free--;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      this.#waiting.push(waiter);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}
