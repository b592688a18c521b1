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
 * Flow control: a function has at most `maxInBrokerPerFunction` dispatched, unclaimed jobs (the
 * store counts them and reads no more), and each step shares its batch among the functions with
 * room, so a backlog of one function with no workers stays in PostgreSQL instead of RabbitMQ's
 * memory and never holds up another function's jobs. A backlog is refilled once half the bound is
 * free, not by the few jobs each claim frees (see select-ready.sql): one step per half bound.
 *
 * Messages may be lost: a broker restart drops non-persistent ones. When the broker says messages
 * may have been lost (its connection came back), the leader gives back to ready, and publishes
 * again, the dispatched jobs of every function whose queue holds less than its bound (a restarted
 * broker's queues are empty; after a blip, a queue at its bound kept its messages, and repeated
 * blips can never queue more than twice the bound). When a relay takes the lead it cannot know what happened
 * while nobody led, so it does the same for the functions whose queue is empty (a queue that holds
 * messages kept them). A single lost message, under any backlog, is published again once it has
 * gone unclaimed for `staleMs` and its queue has room below the bound (see choose-publications.ts).
 * A duplicate message is harmless: the claim decides.
 *
 * A step that fails (the broker refusing, a confirm deadline passing, the database away) leaves its
 * jobs ready; the relay waits a growing, bounded delay before the next, and `stop()` waits for a
 * step in flight only for a bounded time.
 */
import { randomUUID } from 'node:crypto';
import { ValidationError, Waker, silentLogger, systemClock, type Broker, type Clock, type Election, type Leadership, type Logger, type RelayStore, type WakeSource } from '@drover/core';
import { choosePublications, staleFunctions } from './choose-publications.js';

/** Options of a {@link Relay}. */
export interface RelayOptions {
  /** The store's relay port, an election (one relay leads), and wake-ups (a NOTIFY when jobs became ready while it slept). */
  store: RelayStore & Election & WakeSource;
  broker: Broker;
  logger?: Logger;
  /**
   * Decides when a step looks for stale jobs (once per `sweepMs`), so a test moves it by hand; give
   * the store's clock, which decides what is stale.
   */
  clock?: Clock;
  /** Jobs per step. 500 amortises the confirm round trip while keeping row locks brief. */
  batchSize?: number;
  /** Sweep interval, ms: the longest a job waits for dispatch if every NOTIFY is lost. */
  sweepMs?: number;
  /**
   * A dispatched job unclaimed this long is a candidate for re-publishing (its message may be lost);
   * it is published again if its function's queue has room below `maxInBrokerPerFunction`, at most
   * once per `staleMs`.
   */
  staleMs?: number;
  /** Dispatched, unclaimed jobs a function may have: what it may hold in the broker (see DEFAULT_MAX_IN_BROKER). */
  maxInBrokerPerFunction?: number;
  /** Delay after a failed step, doubling from the first to the second while steps keep failing (see ERROR_BACKOFF_MS). */
  errorBackoffMs?: readonly [first: number, max: number];
  /** How long `stop()` waits for a step in flight (a publish the broker does not confirm) before leaving it. */
  stopWaitMs?: number;
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
/**
 * After a step that made progress, the relay looks this often, for this long, before it sleeps
 * until its sweep. A function held at its bound in the broker gets room back only as workers
 * claim, and claims send no NOTIFY: with only the settle looks' growing pauses, a queue emptied in
 * a quarter of a second sat idle until the next look (measured: drain 2,547 jobs/s, against
 * 3,841 with the bound off). Each look is one cheap query; they stop once a window passes with no
 * progress.
 */
const REFILL_LOOK_MS = 25;
const REFILL_WINDOW_MS = 2_000;
/**
 * A thousand: ten workers' default prefetch (10 slots each) ten times over, and two of the relay's
 * batches, so consumers never wait for a relay step (one refills their queue within milliseconds),
 * while a function with no workers parks at most a thousand ~100-byte messages in RabbitMQ.
 */
export const DEFAULT_MAX_IN_BROKER = 1_000;
/**
 * After a failed step (broker or database down, a confirm deadline passed), wait before trying
 * again instead of spinning: half a second at first, doubling to five seconds, so an outage costs
 * one failing step per five seconds and dispatch resumes at most five seconds after it ends.
 */
const ERROR_BACKOFF_MS: readonly [number, number] = [500, 5_000];
/**
 * stop() waits this long for a step in flight: far longer than a healthy confirm (milliseconds), so
 * it cuts short only a publish the broker is not confirming (blocked by an alarm, say), and short
 * enough to leave most of the 10 s a service has between SIGTERM and SIGKILL to the rest of shutdown.
 * A step left behind only leaves its jobs ready (or marks them later): nothing is lost.
 */
const DEFAULT_STOP_WAIT_MS = 5_000;

/**
 * The outbox relay: one per controller; the elected leader publishes. See the module comment.
 */
export class Relay {
  readonly #store: RelayStore & Election & WakeSource;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #sweepMs: number;
  readonly #staleMs: number;
  readonly #maxInBroker: number;
  readonly #stopWaitMs: number;
  readonly #errorBackoffMs: readonly [number, number];
  /** The delay after the next failed step; back to the first after a step succeeds. */
  #backoffMs: number;
  /** Ends a backoff pause early: stop() calls it. */
  #endPause: (() => void) | null = null;
  readonly #settleLooksMs: readonly number[];
  /** When a step last marked jobs dispatched (performance.now()): see REFILL_WINDOW_MS. */
  #lastProgressAt = -Infinity;
  readonly #clock: Clock;
  /** When the last look for stale jobs began, by the clock; null before the first. */
  #lastStaleLook: number | null = null;
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
  /**
   * What this relay has done: steps taken; jobs published, published again (stale), given back after lost
   * messages; looks for lost messages; stale jobs left waiting because their queue was at its
   * bound; failed steps.
   */
  readonly totals = { steps: 0, published: 0, republished: 0, requeued: 0, recoveries: 0, staleHeld: 0, errors: 0 };

  constructor(options: RelayOptions) {
    this.#store = options.store;
    this.#broker = options.broker;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'relay' });
    this.#clock = options.clock ?? systemClock;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH;
    this.#sweepMs = options.sweepMs ?? DEFAULT_SWEEP_MS;
    this.#staleMs = options.staleMs ?? DEFAULT_STALE_MS;
    this.#settleLooksMs = options.settleLooksMs ?? SETTLE_LOOKS_MS;
    this.#maxInBroker = options.maxInBrokerPerFunction ?? DEFAULT_MAX_IN_BROKER;
    this.#stopWaitMs = options.stopWaitMs ?? DEFAULT_STOP_WAIT_MS;
    this.#errorBackoffMs = options.errorBackoffMs ?? ERROR_BACKOFF_MS;
    this.#backoffMs = this.#errorBackoffMs[0];
    if (!Number.isInteger(this.#maxInBroker) || this.#maxInBroker < 1) throw new ValidationError('maxInBrokerPerFunction', 'must be a whole number, 1 or more');
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
   *
   * Only the look for stale jobs reads queue depths (a broker round trip each), and only for the
   * functions it found stale jobs of: the ready jobs need none, since the store counts what each
   * function has dispatched and reads no more than its bound allows. So a burst of steps costs one
   * depth read per function per sweep interval, however many steps it takes.
   */
  async step(): Promise<number> {
    const now = this.#clock.now().getTime();
    // A wall clock set back must not stop the looks until it catches up.
    const staleDue = this.#lastStaleLook === null || now - this.#lastStaleLook >= this.#sweepMs || now < this.#lastStaleLook;
    if (staleDue) this.#lastStaleLook = now;
    const { published, republished, marked } = await this.#store.dispatch(
      this.#batchSize,
      async (jobs) => {
        // Stale candidates are published again only into the room their queue has below the bound;
        // the others keep their dispatched_at and stay first in line for the next look.
        const depths = new Map<string, number>();
        for (const funcname of staleFunctions(jobs)) depths.set(funcname, await this.#broker.queueDepth(funcname));
        const chosen = choosePublications(jobs, this.#maxInBroker, depths);
        this.totals.staleHeld += jobs.filter((j) => j.state === 'dispatched').length - chosen.filter((j) => j.state === 'dispatched').length;
        await this.#broker.publish(chosen.map((j) => ({ funcname: j.funcname, jobId: j.id, priority: j.priority })));
        return chosen.map((j) => j.id);
      },
      { maxInBrokerPerFunction: this.#maxInBroker, ...(staleDue ? { staleMs: this.#staleMs } : {}) },
    );
    this.totals.steps++;
    if (marked > 0) this.#lastProgressAt = performance.now();
    this.totals.published += published;
    this.totals.republished += republished;
    if (republished > 0) this.#logger.warn({ republished }, 'published again jobs whose messages went unclaimed for staleMs (lost, or behind slow consumers)');
    if (published > 0) this.#logger.debug({ published }, 'relayed');
    return marked;
  }

  /**
   * Gives dispatched jobs back to ready, to be published again. On taking the lead: those of
   * functions whose queue is empty (a queue that holds messages kept them). When the broker says
   * messages may have been lost: those of functions whose queue holds less than the bound. A
   * restarted broker's queues are empty or nearly so, and every job comes back at once; after a
   * mere blip the messages survived, and a function whose queue is at its bound (no workers, say)
   * gets no copies, so repeated reconnections cannot grow its queue: it holds at most twice the
   * bound (what survived below the bound, and the copies published into the room).
   */
  async #recoverLostMessages(): Promise<void> {
    const covers = this.#recoverRequests;
    const all = this.#allLost;
    this.#allLost = false;
    const below = all ? this.#maxInBroker : 1;
    try {
      const affected: string[] = [];
      for (const funcname of await this.#store.claimableFuncnames()) {
        if ((await this.#broker.queueDepth(funcname)) < below) affected.push(funcname);
      }
      const requeued = affected.length === 0 ? 0 : await this.#store.requeueDispatched(affected);
      this.#recovered = covers;
      this.totals.recoveries++;
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
    // In a burst, no pause is longer than a refill look: the settle looks' growing pauses (up to
    // 300 ms) would leave a function's emptied queue idle between refills.
    const inBurst = performance.now() - this.#lastProgressAt < REFILL_WINDOW_MS;
    for (const ms of [0, ...(inBurst ? this.#settleLooksMs.map((look) => Math.min(look, REFILL_LOOK_MS)) : this.#settleLooksMs)]) {
      if (ms > 0 && (await this.#waker.sleep(ms)) === 'woken') return;
      if ((await this.step()) > 0) return;
    }
    // Still in a burst: a function held at its bound gets room as workers claim (see REFILL_WINDOW_MS).
    while (!this.#stopping && performance.now() - this.#lastProgressAt < REFILL_WINDOW_MS) {
      if ((await this.#waker.sleep(REFILL_LOOK_MS)) === 'woken') return;
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
        const marked = await this.step();
        this.#backoffMs = this.#errorBackoffMs[0];
        if (marked > 0) continue;
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
        const delayMs = this.#backoffMs;
        this.#backoffMs = Math.min(delayMs * 2, this.#errorBackoffMs[1]);
        this.#logger.warn({ err: (err as Error).message, retryInMs: delayMs }, 'relay step failed; jobs stay ready and will be published later');
        // A timer only stop() ends: during an outage every insert would otherwise wake the loop into another failing step.
        await this.#pause(delayMs);
      }
    }
    await this.#awake;
    await this.#store.announceSleep(this.#id, false).catch(() => undefined);
  }

  #pause(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#endPause = done;
    });
  }

  /**
   * Finishes the current step, then stops; a step still in flight after `stopWaitMs` (a publish the
   * broker never confirms) is left behind: its jobs stay ready, or are marked if it completes.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#waker.wake();
    this.#endPause?.();
    if (this.#loop) {
      let timer: NodeJS.Timeout | undefined;
      const left = await Promise.race([
        this.#loop.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), this.#stopWaitMs);
        }),
      ]);
      clearTimeout(timer);
      if (left) this.#logger.warn({ stopWaitMs: this.#stopWaitMs }, 'stopping without the relay step in flight (its publish was not confirmed in time); its jobs stay ready');
    }
    this.#unsubscribeLost?.();
    await this.#leadership?.close();
    await this.#listener?.close();
  }
}
