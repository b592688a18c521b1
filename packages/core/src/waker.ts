/**
 * A sleep that can be cut short: loops that poll as a safety net sleep on it, and a notification
 * wakes them early. A wake-up that arrives while the loop is busy is remembered, so the next sleep
 * returns at once instead of missing it.
 */
export class Waker {
  #wake: (() => void) | null = null;
  #pending = false;

  /**
   * Resolves after `ms` (with `'slept'`), or at the first wake-up, or at once if one came since the
   * last sleep (with `'woken'`).
   */
  sleep(ms: number): Promise<'slept' | 'woken'> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve('woken');
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve('slept');
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve('woken');
      };
    });
  }

  wake(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }
}
