/**
 * The outbox relay: moves ready jobs from PostgreSQL to the broker. One relay leads at a time
 * (`store.lead('relay')`, re-elected within a second when the leader goes); the others stand by.
 * The leader's step reads ready jobs (skipping rows another transaction holds, and holding no
 * lock past the read), publishes them, waits for the broker's confirms, and only then marks them
 * dispatched (a crash in between publishes again, never strands a job). A worker may claim a job
 * before the mark: the claim takes ready jobs too, and the mark leaves alone any job that changed
 * since it was read.
 *
 * While steps mark jobs the relay steps again at once; when one marks none it announces that it
 * sleeps (only then do inserts NOTIFY: a NOTIFY in every insert serializes commits), looks again
 * a few times over the next few hundred milliseconds, and sleeps until a NOTIFY or its sweep (a
 * NOTIFY is only a latency hint). So under load there is no NOTIFY at all, and an idle relay is
 * woken at once.
 *
 * Messages may be lost: a broker restart drops non-persistent ones. When the broker says messages
 * may have been lost (its connection came back), the leader gives every dispatched job back to
 * ready and publishes it again. When a relay takes the lead it cannot know what happened while
 * nobody led, so it does the same for the functions whose queue is empty (a queue that holds
 * messages kept them). A duplicate message is harmless: the claim decides.
 */
import { randomUUID } from 'node:crypto';
import { Waker, silentLogger, type Broker, type JobStore, type Leadership, type Logger } from '@drover/core';

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
  /** Pauses between the looks taken after announcing a sleep (see SETTLE_LOOKS_MS). */
  settleLooksMs?: readonly number[];
}

const DEFAULT_BATCH = 500;
/** One second bounds the latency cost of a lost NOTIFY at a cost of one indexed query per second. */
const DEFAULT_SWEEP_MS = 1_000;
/** A message sits unclaimed only while workers are busy or gone; after five minutes, assume it was lost. */
const DEFAULT_STALE_MS = 5 * 60_000;
/**
 * Pauses between the looks a relay takes after announcing its sleep, for commits that missed the
 * announcement (see #sleep): most flushes end within the first, a busy disk's within the later
 * ones. Four cheap queries per sleep, and a wake-up ends them.
 */
const SETTLE_LOOKS_MS = [10, 30, 100, 300];
/** After a failed step (broker or database down), wait before trying again instead of spinning. */
const ERROR_BACKOFF_MS = 500;

export class Relay {
  readonly #store: JobStore;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #sweepMs: number;
  readonly #staleMs: number;
  readonly #settleLooksMs: readonly number[];
  #lastStaleLook = 0;
  /** Names this relay in sleeping_relays. */
  readonly #id = `relay-${randomUUID()}`;
  #listener: { close(): Promise<void> } | null = null;
  #leadership: Leadership | null = null;
  /**
   * Looks for lost messages requested (the broker lost messages; this relay took the lead) and how
   * many the last successful look covered: a look that fails, or a request made during a look,
   * leaves one due. `#allLost` says a request came from the broker: every dispatched job counts.
   */
  #recoverRequests = 0;
  #recovered = 0;
  #allLost = false;
  /** The withdrawal of the last sleep announcement, running beside the step that follows a wake-up. */
  #awake: Promise<void> = Promise.resolve();
  readonly #waker = new Waker();
  #loop: Promise<void> | null = null;
  /** Stops listening for lost messages (a stopped relay must not be woken, nor kept reachable, by its broker). */
  #unsubscribeLost: (() => void) | null = null;
  #stopping = false;
  /** Totals since start, for health and tests. */
  readonly totals = { published: 0, republished: 0, requeued: 0, errors: 0 };

  constructor(options: RelayOptions) {
    this.#store = options.store;
    this.#broker = options.broker;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'relay' });
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH;
    this.#sweepMs = options.sweepMs ?? DEFAULT_SWEEP_MS;
    this.#staleMs = options.staleMs ?? DEFAULT_STALE_MS;
    this.#settleLooksMs = options.settleLooksMs ?? SETTLE_LOOKS_MS;
  }

  /** Whether this relay leads (publishes) now. */
  get leading(): boolean {
    return this.#leadership?.leading ?? false;
  }

  async start(): Promise<void> {
    this.#unsubscribeLost = this.#broker.onMessagesLost(() => {
      // A follower has nothing to do: whoever takes the lead looks for lost messages then.
      if (!this.leading) return;
      this.#allLost = true;
      this.#recoverRequests++;
      this.#waker.wake();
    });
    this.#listener = await this.#store.listen((what) => {
      if (what === 'ready') this.#waker.wake();
    });
    try {
      this.#leadership = await this.#store.lead('relay', {
        retryMs: this.#sweepMs,
        onChange: (leading) => {
          if (leading) this.#recoverRequests++;
          this.#waker.wake();
        },
      });
    } catch (err) {
      this.#unsubscribeLost?.();
      await this.#listener.close();
      throw err;
    }
    this.#loop = this.#run();
  }

  /**
   * Runs one step: publishes up to a batch of ready jobs and, once per sweep interval, re-publishes
   * dispatched jobs whose message seems lost. Returns how many jobs it marked dispatched: the
   * progress it made. A job published but left unmarked (changed or held by another session
   * meanwhile) is not progress, so a job that stays that way cannot keep the relay spinning.
   */
  async step(): Promise<number> {
    const staleDue = performance.now() - this.#lastStaleLook >= this.#sweepMs;
    if (staleDue) this.#lastStaleLook = performance.now();
    let republished = 0;
    const { published, marked } = await this.#store.dispatch(
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
      staleDue ? { staleMs: this.#staleMs } : {},
    );
    this.totals.published += published;
    this.totals.republished += republished;
    if (republished > 0) this.#logger.warn({ republished }, 'published again jobs whose messages went unclaimed while their queue was empty');
    if (published > 0) this.#logger.debug({ published }, 'relayed');
    return marked;
  }

  /**
   * Gives dispatched jobs back to ready, to be published again: all of them when the broker lost
   * messages; on taking the lead, those of functions whose queue is empty.
   */
  async #recoverLostMessages(): Promise<void> {
    const covers = this.#recoverRequests;
    const all = this.#allLost;
    this.#allLost = false;
    try {
      let requeued: number;
      if (all) requeued = await this.#store.requeueDispatched();
      else {
        const empty: string[] = [];
        for (const funcname of await this.#store.claimableFuncnames()) {
          if ((await this.#broker.queueDepth(funcname)) === 0) empty.push(funcname);
        }
        requeued = empty.length === 0 ? 0 : await this.#store.requeueDispatched(empty);
      }
      this.#recovered = covers;
      this.totals.requeued += requeued;
      if (requeued > 0) this.#logger.warn({ requeued, all }, 'publishing again dispatched jobs whose messages may have been lost');
    } catch (err) {
      this.#allLost ||= all;
      throw err;
    }
  }

  /**
   * Sleeps until a NOTIFY, looking again now and then. A job inserted before the announcement was
   * visible is found by the first look. An insert whose trigger ran just before the announcement
   * sends no NOTIFY, and its row shows only once its commit is flushed (0.3–1 ms here, longer on a
   * busy disk), so the next looks come soon and then less often, until the sweep interval.
   */
  async #sleep(): Promise<void> {
    for (const ms of [0, ...this.#settleLooksMs]) {
      if (ms > 0 && (await this.#waker.sleep(ms)) === 'woken') return;
      if ((await this.step()) > 0) return;
    }
    await this.#waker.sleep(this.#sweepMs);
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        if (!this.leading) {
          await this.#waker.sleep(this.#sweepMs);
          continue;
        }
        if (this.#recovered < this.#recoverRequests) await this.#recoverLostMessages();
        if ((await this.step()) > 0) continue;
        // Nothing found: announce the sleep, so that inserts from now on NOTIFY, and sleep.
        await this.#awake;
        await this.#store.announceSleep(this.#id, true);
        await this.#sleep();
        // Withdrawn while the next step runs: the wake-up's job is published without waiting for it.
        this.#awake = this.#store.announceSleep(this.#id, false).catch((err: unknown) => {
          this.#logger.warn({ err: (err as Error).message }, 'could not withdraw the sleep announcement; inserts notify until the next one');
        });
      } catch (err) {
        this.totals.errors++;
        this.#logger.warn({ err: (err as Error).message }, 'relay step failed; jobs stay ready and will be published later');
        // A plain timer: during an outage every insert would otherwise wake the loop into another failing step.
        await new Promise((resolve) => setTimeout(resolve, ERROR_BACKOFF_MS));
      }
    }
    await this.#awake;
    await this.#store.announceSleep(this.#id, false).catch(() => undefined);
  }

  /** Finishes the current step, then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#waker.wake();
    await this.#loop;
    this.#unsubscribeLost?.();
    await this.#leadership?.close();
    await this.#listener?.close();
  }
}
