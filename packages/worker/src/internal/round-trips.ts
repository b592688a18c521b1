/**
 * Claims and completions batched into shared round trips (store.completeAndClaim): a worker under
 * load both finishes and receives jobs all the time, and one statement and one commit for both
 * costs the database and this process half of two.
 */
import { performance } from 'node:perf_hooks';
import { Batcher, isRetryableInfrastructureError, type ClaimedJob, type CompleteInput, type Logger, type OutcomeResult, type WorkerStore } from '@drover/core';
import { retrying } from './retrying.js';

/** Claims and completions per statement: big enough to amortise a round trip, small enough to keep locks short. */
const MAX_BATCH = 100;
/**
 * Round trips in flight at once. One: what arrives while a statement travels goes in the next, so
 * batches grow with the load instead of statements multiplying; measured here, two in flight split
 * the same jobs into 40 % more statements for no gain in throughput.
 */
const BATCHES_IN_FLIGHT = 1;

/** A claim or a completion waiting for the next round trip, and what became of it. */
type Op = { kind: 'claim'; id: string; leaseMs: number } | { kind: 'complete'; input: CompleteInput };
type Result = { ok: ClaimedJob | OutcomeResult | null } | { err: unknown };

/** A claimed job and when its claim was sent, on the worker's monotonic clock (its lease runs from then at the latest). */
export interface Claim {
  job: ClaimedJob;
  sentAt: number;
}

/** The worker's batched round trips to the store. */
export class RoundTrips {
  readonly #store: WorkerStore;
  readonly #logger: Logger;
  readonly #batcher: Batcher<Op, Result>;

  constructor(store: WorkerStore, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
    this.#batcher = new Batcher((ops) => this.#roundTrip(ops), MAX_BATCH, BATCHES_IN_FLIGHT);
  }

  /** Claims one job, retrying while PostgreSQL is unreachable and `keepGoing` holds; null when not claimable. */
  async claim(id: string, leaseMs: number, keepGoing: () => boolean): Promise<Claim | null> {
    let sentAt = 0;
    const job = await retrying(() => {
      // Measured before the batch goes out, so the worker's idea of the lease never outlives PostgreSQL's.
      sentAt = performance.now();
      return this.#send({ kind: 'claim', id, leaseMs });
    }, 'claim', this.#logger, keepGoing);
    return job === null ? null : { job: job as ClaimedJob, sentAt };
  }

  /** Completes one job with the next round trip (one try: the caller retries). */
  async complete(input: CompleteInput): Promise<OutcomeResult> {
    return (await this.#send({ kind: 'complete', input })) as OutcomeResult;
  }

  async #send(op: Op): Promise<ClaimedJob | OutcomeResult | null> {
    const result = await this.#batcher.add(op);
    if ('err' in result) throw result.err;
    return result.ok;
  }

  /**
   * One statement for the claims and completions gathered meanwhile. If it fails for a reason
   * other than the database being away (one job's result that is not JSON, say), each operation is
   * tried alone, so that only the one at fault fails.
   */
  async #roundTrip(ops: Op[]): Promise<Result[]> {
    try {
      return (await this.#once(ops)).map((ok) => ({ ok }));
    } catch (err) {
      if (ops.length === 1 || isRetryableInfrastructureError(err)) return ops.map(() => ({ err }));
      return Promise.all(ops.map((op) => this.#once([op]).then(([ok]) => ({ ok: ok! }), (e: unknown) => ({ err: e }))));
    }
  }

  async #once(ops: Op[]): Promise<(ClaimedJob | OutcomeResult | null)[]> {
    const claims = ops.flatMap((op) => (op.kind === 'claim' ? [{ id: op.id, leaseMs: op.leaseMs }] : []));
    const completions = ops.flatMap((op) => (op.kind === 'complete' ? [op.input] : []));
    const { completed, claimed } = await this.#store.completeAndClaim({ completions, claims });
    const jobs = new Map(claimed.map((j) => [j.id, j]));
    const outcomes = new Map(completed.map((o) => [o.id, o]));
    return ops.map((op) => {
      if (op.kind === 'complete') return outcomes.get(op.input.id)!;
      // A duplicate id within one batch gets the job once; the other copy is dropped.
      const job = jobs.get(op.id) ?? null;
      jobs.delete(op.id);
      return job;
    });
  }
}
