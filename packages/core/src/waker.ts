/**
 * A sleep that can be cut short: loops that poll as a safety net sleep on it, and a notification
 * wakes them early. A wake-up that arrives while the loop is busy is remembered, so the next sleep
 * returns at once instead of missing it.
 */
export class Waker {
  #wake: (() => void) | null = null;
  #pending = false;

  /** Resolves after `ms`, or at the first wake-up, or at once if one came since the last sleep. */
  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  wake(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }
}
