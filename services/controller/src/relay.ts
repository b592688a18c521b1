/**
 * The outbox relay: moves ready jobs from PostgreSQL to the broker. While its steps find jobs it
 * steps again at once; when one finds none it announces that it sleeps (only then do inserts
 * NOTIFY: a NOTIFY in every insert serializes commits), looks once more, and sleeps until a NOTIFY
 * or its sweep (a NOTIFY is only a latency hint). So under load there is no NOTIFY at all, and an
 * idle relay is woken at once. Each
 * step publishes a batch, waits for the broker's confirms, and only then marks the jobs
 * dispatched, in the transaction that locked them: a crash in between publishes again, never
 * strands a job. Any number of relays may run; they take disjoint batches.
 */
import { randomUUID } from 'node:crypto';
import { Waker, silentLogger, type Broker, type JobStore, type Logger } from '@drover/core';

export interface RelayOptions {
  store: JobStore;
  broker: Broker;
  logger?: Logger;
  /** Jobs per step. 500 amortises the confirm round trip while keeping row locks brief. */
  batchSize?: number;
  /** Sweep interval, ms: the longest a job waits for dispatch if every NOTIFY is lost. */
  sweepMs?: number;
  /**
   * A dispatched job unclaimed this long is a candidate for re-publishing; it is published again only
   * if its function's queue is empty (a message still waiting behind a backlog is not lost).
   */
  staleMs?: number;
}

const DEFAULT_BATCH = 500;
/** One second bounds the latency cost of a lost NOTIFY at a cost of one indexed query per second. */
const DEFAULT_SWEEP_MS = 1_000;
/** A message sits unclaimed only while workers are busy or gone; after five minutes, assume it was lost. */
const DEFAULT_STALE_MS = 5 * 60_000;
/** After a failed step (broker or database down), wait before trying again instead of spinning. */
const ERROR_BACKOFF_MS = 500;


export class Relay {
  readonly #store: JobStore;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #sweepMs: number;
  readonly #staleMs: number;
  #lastFullStep = 0;
  /** Names this relay in sleeping_relays. */
  readonly #id = `relay-${randomUUID()}`;
  #listener: { close(): Promise<void> } | null = null;
  readonly #waker = new Waker();
  #loop: Promise<void> | null = null;
  #stopping = false;
  /** Totals since start, for health and tests. */
  readonly totals = { published: 0, republished: 0, errors: 0 };

  constructor(options: RelayOptions) {
    this.#store = options.store;
    this.#broker = options.broker;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'relay' });
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH;
    this.#sweepMs = options.sweepMs ?? DEFAULT_SWEEP_MS;
    this.#staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  }

  async start(): Promise<void> {
    this.#listener = await this.#store.listen((what) => {
      if (what === 'ready') this.#waker.wake();
    });
    this.#loop = this.#run();
  }

  /**
   * Runs one step; `full` when the batch was full (more may be waiting), `moved` how many jobs it
   * published or marked. With `probe`, an empty look costs one indexed EXISTS instead of a
   * transaction; right after a step that moved jobs more are likely, so the loop skips the probe.
   * Stale dispatched jobs are looked for with the full statement once per sweep interval.
   */
  async step(probe = true): Promise<{ full: boolean; moved: number }> {
    const staleDue = performance.now() - this.#lastFullStep >= this.#sweepMs;
    if (probe && !staleDue && !(await this.#store.hasDispatchable())) return { full: false, moved: 0 };
    this.#lastFullStep = performance.now();
    let republished = 0;
    const { published, republished: stale } = await this.#store.dispatch(
      this.#batchSize,
      async (jobs) => {
        // Stale candidates are re-published only where their queue is empty; the others are
        // marked again (their dispatched_at refreshed) and looked at after another staleMs.
        const emptyQueues = new Set<string>();
        for (const funcname of new Set(jobs.filter((j) => j.state === 'dispatched').map((j) => j.funcname))) {
          if ((await this.#broker.queueDepth(funcname)) === 0) emptyQueues.add(funcname);
        }
        const toPublish = jobs.filter((j) => j.state === 'ready' || emptyQueues.has(j.funcname));
        republished = toPublish.length - jobs.filter((j) => j.state === 'ready').length;
        await this.#broker.publish(toPublish.map((j) => ({ funcname: j.funcname, jobId: j.id, priority: j.priority })));
      },
      { staleMs: this.#staleMs },
    );
    this.totals.published += published;
    this.totals.republished += republished;
    if (republished > 0) this.#logger.warn({ republished }, 'published again jobs whose messages went unclaimed while their queue was empty');
    if (published > 0) this.#logger.debug({ published }, 'relayed');
    return { full: published + stale >= this.#batchSize, moved: published + stale };
  }

  async #run(): Promise<void> {
    let productive = false;
    while (!this.#stopping) {
      try {
        productive = (await this.step(!productive)).moved > 0;
        if (productive) continue;
        // Nothing found: announce the sleep, then look once more, so that a job inserted before the
        // announcement was visible is found now and one inserted after it brings a NOTIFY.
        await this.#store.announceSleep(this.#id, true);
        if ((await this.step()).moved === 0) await this.#waker.sleep(this.#sweepMs);
        await this.#store.announceSleep(this.#id, false);
      } catch (err) {
        productive = false;
        this.totals.errors++;
        this.#logger.warn({ err: (err as Error).message }, 'relay step failed; jobs stay ready and will be published later');
        // A plain timer: during an outage every insert would otherwise wake the loop into another failing step.
        await new Promise((resolve) => setTimeout(resolve, ERROR_BACKOFF_MS));
      }
    }
    await this.#store.announceSleep(this.#id, false).catch(() => undefined);
  }

  /** Finishes the current step, then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#waker.wake();
    await this.#loop;
    await this.#listener?.close();
  }
}
