/**
 * Completions for every waiting JSON-RPC caller of this process: ONE listening session on the
 * store (`listenFinished`), fanned out in memory to the callbacks waiting on each job id. No poll
 * per job: a waiter costs a map entry until its job is announced. The store announces only jobs
 * marked awaited, once per statement that finishes them, and an announcement carries ids only: the
 * outcomes of every announced id someone here waits for are read in one query.
 *
 * Announcements are wake-ups and can be lost (the listening session reconnects after a database
 * restart or a cut network): on every (re)connect, the outcomes of all awaited ids are read once,
 * in one batched query, so that no waiter hangs on a lost announcement.
 */
import type { CallerStore, FinishedOutcome, Logger } from '@drover/core';

/** Called once with a waited job's outcome. */
export type OnFinished = (outcome: FinishedOutcome) => void;

/**
 * Announced ids remembered for a moment: a waiter registered just after its job's announcement was
 * handled (the job finished between the insert's commit and the registration) finds its id here
 * and reads the outcome at once. Registration follows the insert within microseconds, so a few
 * thousand ids cover it many times over; past this the oldest are forgotten.
 */
const RECENT_MAX = 10_000;
/** Ids per outcome query: 1,000 keeps one read short and its parameter small. */
const READ_BATCH = 1_000;
/** After a failed outcome read (database away), the ids are read again this much later. */
const READ_RETRY_MS = 1_000;

/** Fans one store listener out to the waiters of this process. */
export class CompletionWatcher {
  readonly #store: Pick<CallerStore, 'listenFinished' | 'finishedOutcomes'>;
  readonly #log: Logger;
  readonly #waiters = new Map<string, Set<OnFinished>>();
  /** Recently announced ids, oldest first (a Set keeps insertion order). */
  readonly #recent = new Set<string>();
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  #listener: { close(): Promise<void> } | null = null;
  #stopped = false;

  constructor(store: Pick<CallerStore, 'listenFinished' | 'finishedOutcomes'>, logger: Logger) {
    this.#store = store;
    this.#log = logger.child({ component: 'completions' });
  }

  /** How many jobs have a waiter now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#listener = await this.#store.listenFinished((event) => {
      if (event.kind === 'connected') {
        // Anything may have finished unheard while the session was away.
        this.#read([...this.#waiters.keys()]);
        return;
      }
      for (const id of event.ids) this.#remember(id);
      this.#read(event.ids.filter((id) => this.#waiters.has(id)));
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    const listener = this.#listener;
    this.#listener = null;
    await listener?.close();
    this.#waiters.clear();
  }

  /**
   * Calls `onFinished` once when job `id` finishes. The job must be marked awaited in the store
   * first (`insertFor` with `awaited` / `awaitJobs`). Returns a function that stops waiting.
   */
  watch(id: string, onFinished: OnFinished): () => void {
    let set = this.#waiters.get(id);
    if (!set) this.#waiters.set(id, (set = new Set()));
    set.add(onFinished);
    if (this.#recent.has(id)) this.#read([id]);
    return () => {
      const current = this.#waiters.get(id);
      if (!current?.delete(onFinished)) return;
      if (current.size === 0) this.#waiters.delete(id);
    };
  }

  #remember(id: string): void {
    this.#recent.delete(id);
    this.#recent.add(id);
    if (this.#recent.size > RECENT_MAX) {
      const oldest = this.#recent.values().next();
      if (!oldest.done) this.#recent.delete(oldest.value);
    }
  }

  /** Reads the outcomes of `ids` and hands each to its waiters; unfinished ids keep waiting. */
  #read(ids: string[]): void {
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      this.#store.finishedOutcomes(batch).then(
        (outcomes) => outcomes.forEach((o) => this.#deliver(o)),
        (err: unknown) => this.#retryLater(batch, err),
      );
    }
  }

  #retryLater(ids: string[], err: unknown): void {
    if (this.#stopped) return;
    this.#log.warn({ err: (err as Error).message, jobs: ids.length }, 'reading finished jobs failed; trying again');
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      this.#read(ids.filter((id) => this.#waiters.has(id)));
    }, READ_RETRY_MS);
    timer.unref();
    this.#retryTimers.add(timer);
  }

  #deliver(outcome: FinishedOutcome): void {
    const set = this.#waiters.get(outcome.id);
    if (!set) return;
    this.#waiters.delete(outcome.id);
    for (const fn of set) {
      try {
        fn(outcome);
      } catch (err) {
        this.#log.error({ err, jobId: outcome.id }, 'a completion waiter failed');
      }
    }
  }
}
