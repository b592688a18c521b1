/**
 * Coalesces calls into batches, the way a database groups commits: a call made while fewer than
 * `maxInFlight` batches are running goes out at the end of the current event-loop turn (with
 * whatever else arrived in that turn), so an idle worker adds no latency; calls made while the
 * limit is reached wait for a batch to return and then go out together. Under load, batches grow
 * instead of round trips multiplying, and the database does one statement's work for many jobs.
 */
export class Batcher<In, Out> {
  #pending: { input: In; resolve: (out: Out) => void; reject: (err: unknown) => void }[] = [];
  #scheduled = false;
  #inFlight = 0;

  /** `run` must return one output per input, in order. */
  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly maxBatch: number,
    private readonly maxInFlight = Number.POSITIVE_INFINITY,
  ) {}

  add(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#pending.push({ input, resolve, reject });
      if (this.#pending.length >= this.maxBatch) this.#flush();
      else this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#pending.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#pending.length > 0 && this.#inFlight < this.maxInFlight) {
      const batch = this.#pending.splice(0, this.maxBatch);
      this.#inFlight++;
      this.run(batch.map((b) => b.input))
        .then(
          (outs) => batch.forEach((b, i) => b.resolve(outs[i]!)),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          this.#inFlight--;
          this.#schedule();
        });
    }
  }
}
