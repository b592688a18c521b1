/**
 * Starting workflow jobs: the engine consumes the broker queues of the stored workflows, as a
 * worker consumes its functions', and claims each delivery with the store's ordinary claim. A
 * claimed job is then started in one transaction fenced by its grab token (its run created, its
 * lease replaced by the run, its first step taken). An engine that dies between the claim and that
 * commit leaves the job to lease expiry, like any claimed job.
 */
import { decodeJobId, type Broker, type Delivery, type Logger, type Subscription, type WorkerStore, type WorkflowRunStore, type WorkflowUnitRef } from '@drover/core';

/** What the starter needs. */
export interface StarterOptions {
  readonly store: WorkflowRunStore & Pick<WorkerStore, 'claim'>;
  readonly broker: Broker;
  readonly logger: Logger;
  /** Deliveries in flight per workflow's queue. */
  readonly prefetch: number;
  /** The claim's lease: how long a job claimed by an engine that died waits before it comes back. */
  readonly leaseMs: number;
  /** Takes the first step of a claimed job; resolves when committed (or fenced out). */
  readonly start: (job: { id: string; grabToken: string; funcname: string }, unit: WorkflowUnitRef) => Promise<void>;
}

/** Consumes the stored workflows' queues and starts what they deliver. */
export class Starter {
  readonly #options: StarterOptions;
  readonly #units = new Map<string, WorkflowUnitRef>();
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;

  constructor(options: StarterOptions) {
    this.#options = options;
  }

  /** Starts work in progress: for stop() to wait on. */
  get inFlight(): ReadonlySet<Promise<void>> {
    return this.#inFlight;
  }

  /** Reads the stored workflows and consumes the queues of any new one. */
  async refresh(): Promise<void> {
    const units = await this.#options.store.workflowUnits();
    for (const unit of units) this.#units.set(unit.name, unit);
    for (const unit of units) {
      if (this.#stopped || this.#subscriptions.has(unit.name)) continue;
      const subscription = await this.#options.broker.consume([unit.name], this.#options.prefetch, (d) => this.#onDelivery(d));
      if (this.#stopped) {
        await subscription.close();
        return;
      }
      this.#subscriptions.set(unit.name, subscription);
      this.#options.logger.info({ workflow: unit.name }, 'consuming the workflow queue');
    }
  }

  /** Stops consuming; deliveries not yet settled go back to their queues. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#subscriptions.values()].map((s) => s.cancel()));
  }

  /** Closes the subscriptions once the starts in flight are done. */
  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions.values()].map((s) => s.close()));
    this.#subscriptions.clear();
  }

  #onDelivery(delivery: Delivery): void {
    if (this.#stopped) {
      delivery.nack(true);
      return;
    }
    const work: Promise<void> = this.#handle(delivery)
      .catch((err: unknown) => {
        // The job stays claimed until its lease ends, then comes back: nothing is lost.
        this.#options.logger.error({ err: err instanceof Error ? err.message : String(err), funcname: delivery.funcname }, 'starting a workflow failed; its lease will bring it back');
      })
      .finally(() => this.#inFlight.delete(work));
    this.#inFlight.add(work);
  }

  async #handle(delivery: Delivery): Promise<void> {
    const id = decodeJobId(delivery.body);
    const unit = this.#units.get(delivery.funcname);
    if (id === null || !unit) {
      // Someone else's message, or a queue consumed for a unit now unknown: nothing to start.
      delivery.ack();
      return;
    }
    let claimed;
    try {
      claimed = await this.#options.store.claim([id], { leaseMs: this.#options.leaseMs });
    } catch (err) {
      delivery.nack(true);
      throw err;
    }
    // From the claim on, the lease decides the job's fate (as for a worker), so the ack may come
    // now; a message whose claim failed is a duplicate or a job no longer claimable.
    delivery.ack();
    const job = claimed[0];
    if (!job) return;
    await this.#options.start({ id: job.id, grabToken: job.grabToken, funcname: job.funcname }, unit);
  }
}
