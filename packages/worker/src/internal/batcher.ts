/**
 * Coalesces calls made in the same turn of the event loop into one batch: under load, deliveries
 * and completions arrive in bursts and share one statement; when idle, a lone call waits only for
 * the current turn to end, so batching adds no latency.
 */
export class Batcher<In, Out> {
  #pending: { input: In; resolve: (out: Out) => void; reject: (err: unknown) => void }[] = [];
  #scheduled = false;

  /** `run` must return one output per input, in order. */
  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly maxBatch: number,
  ) {}

  add(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#pending.push({ input, resolve, reject });
      if (this.#pending.length >= this.maxBatch) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending.splice(0, this.maxBatch);
    if (this.#pending.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    if (batch.length === 0) return;
    this.run(batch.map((b) => b.input)).then(
      (outs) => batch.forEach((b, i) => b.resolve(outs[i]!)),
      (err: unknown) => batch.forEach((b) => b.reject(err)),
    );
  }
}
