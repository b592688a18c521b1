/**
 * The job store's logic over any {@link SqlExecutor}: validation, parameter shaping and result
 * mapping around the `.sql` files. One method, one statement (or one transaction), so every
 * guarantee is a property of a statement that the tests exercise against a real database.
 */
import {
  Batcher,
  ConflictError,
  DEFAULT_RETRY_POLICY,
  InfrastructureError,
  JOB_STATES,
  ValidationError,
  backoffDelayMs,
  isRetryableInfrastructureError,
  toJsonText,
  validateFuncname,
  validateNewJob,
  validateNewJobs,
  type ClaimOptions,
  type ClaimedJob,
  type Clock,
  type CompleteAndClaimInput,
  type CompleteInput,
  type DeclineInput,
  type DispatchCandidate,
  type DispatchOptions,
  type DispatchResult,
  type FailInput,
  type FailResult,
  type FindJobsQuery,
  type Grab,
  type InsertResult,
  type Job,
  type JobCount,
  type JobState,
  type JobStore,
  type JobWithFailures,
  type LeadOptions,
  type Leadership,
  type NewJob,
  type OutcomeResult,
  type RescheduleWhen,
  type RetryPolicy,
  type ValidJob,
} from '@drover/core';
import type { SqlExecutor } from './internal/executor.js';
import { insertKeyed } from './internal/keyed-insert.js';
import { toClaimedJob, toJob, toJobWithFailures, type ClaimedRow, type JobRow, type JobWithFailuresRow } from './internal/rows.js';
import { SQL } from './internal/statements.js';

const DAY_MS = 24 * 60 * 60_000;

/** How long finished jobs keep their exit status before the trim deletes them, per outcome. */
export interface Retention {
  completedMs: number;
  failedMs: number;
  cancelledMs: number;
}

/** A week of completed jobs answers "did it run?"; failures stay a month so a person can look and retry by hand. */
export const DEFAULT_RETENTION: Readonly<Retention> = Object.freeze({ completedMs: 7 * DAY_MS, failedMs: 30 * DAY_MS, cancelledMs: 30 * DAY_MS });

/**
 * How long an idempotency key is honoured: a producer retries an enqueue within seconds or
 * minutes, and a day also covers a batch job re-run the next morning, while the keys of a day's
 * enqueues stay a small table.
 */
export const DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS = DAY_MS;

/**
 * Leases that end around a database restart get this much time after the database's start before
 * the scheduler takes them back. While the database was down, no worker could renew a lease or
 * write an outcome; a worker retries its writes with a backoff capped at 5 s, so 30 s after the
 * start a live worker has written or renewed several times over, and only a dead one's job is
 * still running. It costs a dead worker's job at most this much extra wait, once per restart.
 */
export const DEFAULT_RESTART_GRACE_MS = 30_000;
/**
 * A lease that ended up to this long before the database's start counts as ended in the outage
 * (the restart time is known, the moment the database went away is not): a minute, the worker's
 * default lease, covers the outages that a lease could have ridden out.
 */
export const DEFAULT_RESTART_LOOKBACK_MS = 60_000;

/** Leases are measured in ms in an `int` parameter; a day is far beyond any sane lease and well inside int range. */
const LEASE_MAX_MS = DAY_MS;
/** Maintenance works in bounded batches so that one call never holds many row locks or runs long. */
const MAINTENANCE_BATCH = 1000;
/** A function's bound in the broker is a count the relay's read stops at; a million is far past any useful bound. */
const MAX_IN_BROKER_LIMIT = 1_000_000;
/** Ten million jobs in batches: more than any backlog a queue should hold, and still a bound. */
const REQUEUE_ROUNDS_MAX = 10_000;
/** An insert that keeps losing races for a key to jobs that finish before it can read them is pathological; give up loudly. */
const DUPLICATE_LOOKUP_ROUNDS = 5;

const ID_PATTERN = /^[1-9][0-9]{0,18}$/;
const UNIQUE_VIOLATION = '23505';
const DEADLOCK_DETECTED = '40P01';

export interface SqlJobStoreOptions {
  /** Time for every time-dependent statement; without one, the database's clock decides. */
  clock?: Clock;
  retention?: Partial<Retention>;
  /** Backoff for jobs whose lease expired (no worker is there to say its function's policy). */
  retryPolicy?: RetryPolicy;
  /** Jitter source; injectable so tests can pin it. */
  random?: () => number;
  /** Max retries for jobs enqueued without one. */
  defaultMaxRetries?: number;
  /** Called by close(), after which the store must not be used. */
  onClose?: () => Promise<void>;
  /**
   * Coalesce concurrent insert() calls into multi-row statements (each call still resolves only
   * once its own row has committed). For a store on a pool; a store on one session gains nothing.
   */
  batchInserts?: boolean;
  /** How long an idempotency key is honoured, ms; then the scheduler's trim deletes it. Defaults to a day. */
  idempotencyKeyRetentionMs?: number;
  /** After the database starts, how long leases that ended around the outage are left alone, ms (see {@link DEFAULT_RESTART_GRACE_MS}). */
  restartGraceMs?: number;
  /** How long before the database's start a lease end counts as in the outage, ms (see {@link DEFAULT_RESTART_LOOKBACK_MS}). */
  restartLookbackMs?: number;
}

/**
 * Single inserts coalesced into one statement: most that one statement handles well, and how many
 * statements may be in flight. Two let one batch commit while the next gathers calls; measured
 * here with 16 callers, one, two and four in flight gave 9.1k, 10.5k and 8.6–10.2k inserts/s.
 */
const INSERT_BATCH_MAX = 500;
const INSERT_BATCHES_IN_FLIGHT = 2;

/** PostgreSQL's bigint ceiling: a larger id would fail in the database instead of here. */
const BIGINT_MAX = 9223372036854775807n;

function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value) && BigInt(value) <= BIGINT_MAX;
}

function checkId(id: unknown, field = 'id'): string {
  if (!isId(id)) throw new ValidationError(field, 'must be a job id: a positive integer (at most 2^63-1), as a string');
  return id;
}

function checkLease(options: ClaimOptions): number {
  const ms = options?.leaseMs;
  if (!Number.isInteger(ms) || ms < 1 || ms > LEASE_MAX_MS) throw new ValidationError('leaseMs', `must be an integer from 1 to ${LEASE_MAX_MS}`);
  return ms;
}

function checkLimit(limit: unknown, max: number, field = 'limit'): number {
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > max) throw new ValidationError(field, `must be an integer from 1 to ${max}`);
  return limit as number;
}

/**
 * Validates a batch of grabs and returns it sorted by id. Every batched write locks its rows in id
 * order, so two batches over the same jobs (a worker's completions and the lease sweep, say)
 * cannot deadlock. One id twice in a batch is refused: its two writes could not both be reported.
 */
function checkGrabs<T extends Grab>(grabs: readonly T[], field = 'grabs'): T[] {
  if (!Array.isArray(grabs)) throw new ValidationError(field, 'must be an array');
  const seen = new Set<string>();
  grabs.forEach((g, i) => {
    checkId(g?.id, `${field}[${i}].id`);
    if (!isId(g.grabToken)) throw new ValidationError(`${field}[${i}].grabToken`, 'must be the grab token of a claim');
    if (seen.has(g.id)) throw new ValidationError(`${field}[${i}].id`, `job ${g.id} appears twice in one batch`);
    seen.add(g.id);
  });
  return [...grabs].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/** Ten years: any longer delay or retention is a unit mistake, and far beyond it timestamps overflow. */
const DURATION_MAX_MS = 10 * 365 * DAY_MS;

function checkDuration(ms: unknown, field: string): number {
  if (!Number.isInteger(ms) || (ms as number) < 0 || (ms as number) > DURATION_MAX_MS) {
    throw new ValidationError(field, `must be a whole number of milliseconds from 0 to ${DURATION_MAX_MS} (ten years)`);
  }
  return ms as number;
}



/** The job store over a SQL executor; see {@link JobStore} for each operation's contract. */
export class SqlJobStore implements JobStore {
  readonly #db: SqlExecutor;
  readonly #clock: Clock | undefined;
  readonly #retention: Retention;
  readonly #retryPolicy: RetryPolicy;
  readonly #random: () => number;
  readonly #defaultMaxRetries: number | undefined;
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #inserter: Batcher<ValidJob, { ok: InsertResult } | { err: unknown }> | null;
  readonly #keyRetentionMs: number;
  readonly #restartGraceMs: number;
  readonly #restartLookbackMs: number;

  constructor(db: SqlExecutor, options: SqlJobStoreOptions = {}) {
    this.#db = db;
    this.#clock = options.clock;
    this.#retention = { ...DEFAULT_RETENTION, ...options.retention };
    this.#retryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    this.#random = options.random ?? Math.random;
    this.#defaultMaxRetries = options.defaultMaxRetries;
    this.#onClose = options.onClose;
    this.#restartGraceMs = checkDuration(options.restartGraceMs ?? DEFAULT_RESTART_GRACE_MS, 'restartGraceMs');
    this.#restartLookbackMs = checkDuration(options.restartLookbackMs ?? DEFAULT_RESTART_LOOKBACK_MS, 'restartLookbackMs');
    this.#keyRetentionMs = checkDuration(options.idempotencyKeyRetentionMs ?? DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS, 'idempotencyKeyRetentionMs');
    this.#inserter = options.batchInserts ? new Batcher((jobs) => this.#insertCoalesced(jobs), INSERT_BATCH_MAX, INSERT_BATCHES_IN_FLIGHT) : null;
  }

  /** The store's idea of now: the injected clock, or null to let the database decide. */
  #now(): Date | null {
    return this.#clock ? this.#clock.now() : null;
  }

  /** The same store, running its statements through another executor (a transaction, a caller's client). */
  withExecutor(db: SqlExecutor): SqlJobStore {
    return new SqlJobStore(db, {
      ...(this.#clock ? { clock: this.#clock } : {}),
      retention: this.#retention,
      retryPolicy: this.#retryPolicy,
      random: this.#random,
      idempotencyKeyRetentionMs: this.#keyRetentionMs,
      restartGraceMs: this.#restartGraceMs,
      restartLookbackMs: this.#restartLookbackMs,
      ...(this.#defaultMaxRetries === undefined ? {} : { defaultMaxRetries: this.#defaultMaxRetries }),
    });
  }

  async insert(job: NewJob): Promise<InsertResult> {
    const valid = validateNewJob(job, '', this.#maxRetriesDefault());
    if (this.#inserter) {
      const outcome = await this.#inserter.add(valid);
      if ('err' in outcome) throw outcome.err;
      return outcome.ok;
    }
    const [result] = await this.#insertAll(this.#db, [valid]);
    return result!;
  }

  /** Inserts validated jobs: in one transaction with their idempotency keys when any has one. */
  #insertAll(db: SqlExecutor, jobs: ValidJob[]): Promise<InsertResult[]> {
    if (!jobs.some((j) => j.idempotencyKey !== null)) return this.#insertValid(db, jobs);
    return insertKeyed(db, jobs, { retentionMs: this.#keyRetentionMs, now: this.#now(), insert: (tx, some, ids) => this.#insertValid(tx, some, 0, ids) });
  }

  /**
   * Inserts the jobs of concurrent insert() calls in one statement. If it fails for a reason other
   * than the database being away (a trigger refusing one job, say), each job is tried alone, so
   * that only the calls whose job is at fault fail.
   */
  async #insertCoalesced(jobs: ValidJob[]): Promise<({ ok: InsertResult } | { err: unknown })[]> {
    const keyed = jobs.some((j) => j.idempotencyKey !== null);
    let results: (InsertResult | null)[];
    try {
      // With keys, the batch is one transaction: it commits whole (duplicates resolved) or not at all.
      results = keyed ? await this.#insertAll(this.#db, jobs) : await this.#insertRows(this.#db, jobs);
    } catch (err) {
      // Nothing was written. A deadlock with another transaction's inserts (this statement holds
      // several keys, a single insert held one) is retried job by job too.
      const deadlock = (err as { code?: unknown }).code === DEADLOCK_DETECTED;
      if (jobs.length === 1 || (isRetryableInfrastructureError(err) && !deadlock)) return jobs.map(() => ({ err }));
      return Promise.all(jobs.map((j) => this.#insertAll(this.#db, [j]).then(([ok]) => ({ ok: ok! }), (e: unknown) => ({ err: e }))));
    }
    // The rows are committed: from here a failure concerns only the duplicates still looked up,
    // and a caller whose job exists must hear so (retrying a reported failure would insert it twice).
    try {
      await this.#resolveDuplicates(this.#db, jobs, results, 0);
    } catch (err) {
      return results.map((ok) => (ok === null ? { err } : { ok }));
    }
    return results.map((ok) => ({ ok: ok! }));
  }

  async insertMany(jobs: readonly NewJob[]): Promise<InsertResult[]> {
    return this.#insertAll(this.#db, validateNewJobs(jobs, this.#maxRetriesDefault()));
  }

  #maxRetriesDefault(): { maxRetries?: number } {
    return this.#defaultMaxRetries === undefined ? {} : { maxRetries: this.#defaultMaxRetries };
  }

  /**
   * Inserts validated jobs. A duplicate of a job that was live before the statement comes back
   * without an id (the statement's snapshot may be stale); a fresh statement then reads the live
   * holder, and if that job finished in the meantime the insert is tried again.
   */
  async #insertValid(db: SqlExecutor, jobs: ValidJob[], round = 0, ids?: (string | null)[]): Promise<InsertResult[]> {
    if (jobs.length === 0) return [];
    const results = await this.#insertRows(db, jobs, ids);
    await this.#resolveDuplicates(db, jobs, results, round, ids);
    return results as InsertResult[];
  }

  /**
   * The insert statement itself. A null result is a duplicate of a job that was live before the
   * statement, whose id a fresh statement must look up (see #resolveDuplicates).
   */
  async #insertRows(db: SqlExecutor, jobs: ValidJob[], ids?: (string | null)[]): Promise<(InsertResult | null)[]> {
    // Ids given (drawn with idempotency keys) need the batch statement; the fast path draws its own.
    const rows = jobs.length === 1 && ids === undefined ? await this.#insertOne(db, jobs[0]!) : await db.query<{ ord: number; id: string | null; inserted: boolean }>(SQL.insertJobs, [
      jobs.map((j) => j.funcname),
      jobs.map((j) => j.argJson),
      jobs.map((j) => j.uniqkey),
      jobs.map((j) => j.runAfter),
      jobs.map((j) => j.priority),
      jobs.map((j) => j.coalesce),
      jobs.map((j) => j.maxRetries),
      jobs.map((j) => j.timeoutMs),
      this.#now(),
      ids ?? null,
    ]);
    return rows.map((r) => (r.id === null ? null : { id: r.id, inserted: r.inserted }));
  }

  /**
   * Fills in the null results: reads each live holder with a fresh statement, and if that job has
   * finished in the meantime, the key is free and the insert is tried again.
   */
  async #resolveDuplicates(db: SqlExecutor, jobs: ValidJob[], results: (InsertResult | null)[], round: number, ids?: (string | null)[]): Promise<void> {
    const missing = results.flatMap((r, i) => (r === null ? [i] : []));
    if (missing.length === 0) return;
    if (round >= DUPLICATE_LOOKUP_ROUNDS) throw new InfrastructureError('insert: a uniqkey kept changing hands while its id was looked up; try again');
    const found = await db.query<{ funcname: string; uniqkey: string; id: string }>(SQL.findLiveIds, [
      missing.map((i) => jobs[i]!.funcname),
      missing.map((i) => jobs[i]!.uniqkey),
    ]);
    const byKey = new Map(found.map((f) => [`${f.funcname}\u0000${f.uniqkey}`, f.id]));
    const again: number[] = [];
    for (const i of missing) {
      const id = byKey.get(`${jobs[i]!.funcname}\u0000${jobs[i]!.uniqkey}`);
      if (id) results[i] = { id, inserted: false };
      else again.push(i);
    }
    if (again.length > 0) {
      const retried = await this.#insertValid(db, again.map((i) => jobs[i]!), round + 1, ids && again.map((i) => ids[i]!));
      again.forEach((i, k) => (results[i] = retried[k]!));
    }
  }

  /** The single-enqueue fast path: a plain INSERT, about twice as cheap as the batch statement. */
  async #insertOne(db: SqlExecutor, j: ValidJob): Promise<{ ord: number; id: string | null; inserted: boolean }[]> {
    const [row] = await db.query<{ id: string }>(SQL.insertJob, [j.funcname, j.argJson, j.uniqkey, j.runAfter, j.priority, j.coalesce, j.maxRetries, j.timeoutMs, this.#now()]);
    return [{ ord: 1, id: row?.id ?? null, inserted: row !== undefined }];
  }

  async claim(ids: readonly string[], options: ClaimOptions): Promise<ClaimedJob[]> {
    if (!Array.isArray(ids)) throw new ValidationError('ids', 'must be an array of job ids');
    const leaseMs = checkLease(options);
    return (await this.completeAndClaim({ claims: ids.map((id) => ({ id, leaseMs })) })).claimed;
  }

  async completeAndClaim(input: CompleteAndClaimInput): Promise<{ completed: OutcomeResult[]; claimed: ClaimedJob[] }> {
    return this.#completeAndClaimOn(this.#db, input);
  }

  async #completeAndClaimOn(db: SqlExecutor, input: CompleteAndClaimInput): Promise<{ completed: OutcomeResult[]; claimed: ClaimedJob[] }> {
    const completions = input.completions ?? [];
    const claims = input.claims ?? [];
    if (!Array.isArray(completions)) throw new ValidationError('completions', 'must be an array');
    if (!Array.isArray(claims)) throw new ValidationError('claims', 'must be an array');
    completions.forEach((o, i) => {
      if (o.keepForMs !== undefined) checkDuration(o.keepForMs, `outcomes[${i}].keepForMs`);
    });
    const results = completions.map((o, i) => toJsonText(o.result === undefined ? null : o.result, `outcomes[${i}].result`));
    checkGrabs(completions, 'outcomes');
    claims.forEach((c, i) => {
      checkId(c?.id, `ids[${i}]`);
      checkLease(c);
    });
    const rows = await db.query<ClaimedRow & { kind: 'completed' | 'claimed' }>(SQL.completeAndClaim, [
      completions.map((o) => o.id),
      completions.map((o) => o.grabToken),
      results,
      completions.map((o) => o.keepForMs ?? this.#retention.completedMs),
      claims.map((c) => c.id),
      claims.map((c) => c.leaseMs),
      this.#now(),
    ]);
    return {
      completed: accepted(completions, rows.filter((r) => r.kind === 'completed')),
      claimed: rows.filter((r) => r.kind === 'claimed').map(toClaimedJob),
    };
  }

  async claimNext(funcname: string, limit: number, options: ClaimOptions): Promise<ClaimedJob[]> {
    const rows = await this.#db.query<ClaimedRow>(SQL.claimNext, [validateFuncname(funcname), checkLimit(limit, 10_000), checkLease(options), this.#now()]);
    return rows.map(toClaimedJob);
  }

  async claimCoalesced(funcname: string, coalesce: string, limit: number, options: ClaimOptions): Promise<ClaimedJob[]> {
    if (typeof coalesce !== 'string' || coalesce.length === 0) throw new ValidationError('coalesce', 'must be a non-empty string');
    const rows = await this.#db.query<ClaimedRow>(SQL.claimCoalesced, [validateFuncname(funcname), coalesce, checkLimit(limit, 10_000), checkLease(options), this.#now()]);
    return rows.map(toClaimedJob);
  }

  async heartbeat(grabs: readonly Grab[], options: ClaimOptions): Promise<OutcomeResult[]> {
    const sorted = checkGrabs(grabs);
    const rows = await this.#db.query<{ id: string }>(SQL.heartbeat, [sorted.map((g) => g.id), sorted.map((g) => g.grabToken), checkLease(options), this.#now()]);
    return accepted(grabs, rows);
  }

  async complete(input: CompleteInput): Promise<OutcomeResult> {
    const [result] = await this.completeMany([input]);
    return result!;
  }

  async completeMany(inputs: readonly CompleteInput[]): Promise<OutcomeResult[]> {
    return (await this.completeAndClaim({ completions: inputs })).completed;
  }

  async fail(input: FailInput): Promise<FailResult> {
    const [result] = await this.failMany([input]);
    return result!;
  }

  async failMany(inputs: readonly FailInput[]): Promise<FailResult[]> {
    return this.#fail(inputs, false);
  }

  async permanentFailure(input: Omit<FailInput, 'permanent' | 'retryDelayMs'>): Promise<FailResult> {
    const [result] = await this.#fail([{ ...input, permanent: true, retryDelayMs: 0 }], false);
    return result!;
  }

  async #fail(inputs: readonly FailInput[], expiredOnly: boolean): Promise<FailResult[]> {
    inputs.forEach((f, i) => {
      if (typeof f.error !== 'string') throw new ValidationError(`failures[${i}].error`, 'must be a string');
      checkDuration(f.retryDelayMs, `failures[${i}].retryDelayMs`);
      if (f.keepForMs !== undefined) checkDuration(f.keepForMs, `failures[${i}].keepForMs`);
      if (f.maxRetries !== undefined && (!Number.isInteger(f.maxRetries) || f.maxRetries < 0)) throw new ValidationError(`failures[${i}].maxRetries`, 'must be an integer, 0 or more');
    });
    const sorted = checkGrabs(inputs, 'failures');
    const rows = await this.#db.query<{ id: string; outcome: 'retry' | 'failed'; failures: number; run_after: Date | null }>(SQL.fail, [
      sorted.map((f) => f.id),
      sorted.map((f) => f.grabToken),
      sorted.map((f) => f.error),
      sorted.map((f) => f.retryDelayMs),
      sorted.map((f) => f.permanent ?? false),
      sorted.map((f) => f.maxRetries ?? null),
      sorted.map((f) => f.keepForMs ?? this.#retention.failedMs),
      expiredOnly,
      this.#now(),
    ]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return inputs.map((f) => {
      const row = byId.get(f.id);
      return row
        ? { id: f.id, accepted: true, outcome: row.outcome, failures: row.failures, runAfter: row.run_after }
        : { id: f.id, accepted: false, outcome: null, failures: null, runAfter: null };
    });
  }

  async decline(input: DeclineInput): Promise<OutcomeResult> {
    checkGrabs([input], 'decline');
    const runAfter = input.runAfter ?? null;
    if (runAfter !== null && !(runAfter instanceof Date && Number.isFinite(runAfter.getTime()))) throw new ValidationError('runAfter', 'must be a valid Date or null');
    const rows = await this.#db.query<{ id: string }>(SQL.decline, [[input.id], [input.grabToken], [runAfter], this.#now()]);
    return accepted([input], rows)[0]!;
  }

  async replaceWith(grab: Grab, jobs: readonly NewJob[], options: { keepForMs?: number } = {}): Promise<{ accepted: boolean; inserted: InsertResult[] }> {
    const valid = validateNewJobs(jobs, this.#maxRetriesDefault());
    const outcome = { ...grab, ...(options.keepForMs === undefined ? {} : { keepForMs: options.keepForMs }) };
    return this.#db.transaction(async (tx) => {
      // Complete first: a replacement may reuse the original's uniqkey, which the original holds while live.
      const [completed] = (await this.#completeAndClaimOn(tx, { completions: [outcome] })).completed;
      if (!completed!.accepted) return { accepted: false, inserted: [] };
      return { accepted: true, inserted: await this.#insertAll(tx, valid) };
    });
  }

  async reschedule(id: string, when: RescheduleWhen): Promise<Job | null> {
    let runAfter: Date | 'infinity' | null = null;
    let offsetMs = 0;
    if (when === 'never') runAfter = 'infinity';
    else if (when instanceof Date && Number.isFinite(when.getTime())) runAfter = when;
    else if (typeof when === 'string' && /^\+\d+(\.\d+)?$/.test(when)) offsetMs = checkDuration(Math.round(Number(when.slice(1)) * 1000), 'when');
    else throw new ValidationError('when', "must be 'never', '+N' (seconds from now) or a valid Date");
    const rows = await this.#db.query<JobRow>(SQL.reschedule, [checkId(id), runAfter, offsetMs, this.#now()]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  async cancel(id: string): Promise<boolean> {
    const rows = await this.#db.query(SQL.cancel, [checkId(id), this.#retention.cancelledMs, this.#now()]);
    return rows.length > 0;
  }

  async retry(id: string): Promise<Job | null> {
    try {
      const rows = await this.#db.query<JobRow>(SQL.retry, [checkId(id), this.#now()]);
      return rows[0] ? toJob(rows[0]) : null;
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new ConflictError(`job ${id}: another live job holds its (funcname, uniqkey); cancel or finish that one first`, { cause: err });
      }
      throw err;
    }
  }

  async promoteDue(limit = MAINTENANCE_BATCH): Promise<number> {
    const [row] = await this.#db.query<{ promoted: number }>(SQL.promoteDue, [checkLimit(limit, 100_000), this.#now()]);
    return row?.promoted ?? 0;
  }

  /** With `all`, every running job is taken back whatever its lease (see PgliteJobStore.recoverAfterRestart). */
  async expireLeases(limit = MAINTENANCE_BATCH, options: { all?: boolean } = {}): Promise<FailResult[]> {
    const all = options.all ?? false;
    const expired = await this.#db.query<{ id: string; grab_token: string; failures: number }>(SQL.expiredLeases, [checkLimit(limit, 100_000), this.#now(), all, this.#restartLookbackMs, this.#restartGraceMs]);
    if (expired.length === 0) return [];
    return this.#fail(
      expired.map((e) => ({
        id: e.id,
        grabToken: e.grab_token,
        error: 'lease expired',
        retryDelayMs: backoffDelayMs(e.failures + 1, this.#retryPolicy, this.#random),
      })),
      !all,
    );
  }

  /**
   * Gives dispatched jobs back to ready (of the given functions, or all), so that the relay
   * publishes them again: their messages were lost. Returns how many.
   */
  async requeueDispatched(funcnames?: readonly string[]): Promise<number> {
    const only = funcnames === undefined ? null : funcnames.map((f, i) => validateFuncname(f, `funcnames[${i}]`));
    let total = 0;
    // Bounded statements: a backlog of a million dispatched jobs must not be one long lock. The
    // round limit ends the loop even if another relay keeps dispatching jobs meanwhile.
    for (let round = 0; round < REQUEUE_ROUNDS_MAX; round++) {
      const [row] = await this.#db.query<{ requeued: number }>(SQL.requeueDispatched, [only, MAINTENANCE_BATCH]);
      const requeued = row?.requeued ?? 0;
      total += requeued;
      if (requeued < MAINTENANCE_BATCH) break;
    }
    return total;
  }

  async claimableFuncnames(): Promise<string[]> {
    return (await this.#db.query<{ funcname: string }>(SQL.claimableFuncnames, [])).map((r) => r.funcname);
  }

  async trimFinished(limit = MAINTENANCE_BATCH): Promise<number> {
    const [row] = await this.#db.query<{ trimmed: number }>(SQL.trimFinished, [checkLimit(limit, 100_000), this.#now()]);
    return row?.trimmed ?? 0;
  }

  /** Deletes idempotency keys past their retention, in a bounded batch; returns how many. */
  async trimIdempotencyKeys(limit = MAINTENANCE_BATCH): Promise<number> {
    const [row] = await this.#db.query<{ trimmed: number }>(SQL.trimIdempotencyKeys, [checkLimit(limit, 100_000), this.#now()]);
    return row?.trimmed ?? 0;
  }

  async dispatch(limit: number, publish: (jobs: DispatchCandidate[]) => Promise<readonly string[] | void>, options: DispatchOptions = {}): Promise<DispatchResult> {
    checkLimit(limit, 10_000);
    const staleMs = options.staleMs ?? null;
    if (staleMs !== null && (!Number.isInteger(staleMs) || staleMs < 0)) throw new ValidationError('staleMs', 'must be a whole number of milliseconds, 0 or more');
    const maxInBroker = options.maxInBrokerPerFunction ?? null;
    if (maxInBroker !== null && (!Number.isInteger(maxInBroker) || maxInBroker < 1 || maxInBroker > MAX_IN_BROKER_LIMIT)) {
      throw new ValidationError('maxInBrokerPerFunction', `must be a whole number from 1 to ${MAX_IN_BROKER_LIMIT}`);
    }
    const now = this.#now();
    const ready = await this.#db.query<DispatchCandidate & { version: string }>(SQL.selectReady, [limit, maxInBroker]);
    const stale = staleMs === null ? [] : await this.#db.query<DispatchCandidate & { version: string }>(SQL.selectStale, [limit, staleMs, now]);
    const jobs = [...ready, ...stale];
    if (jobs.length === 0) return { published: 0, republished: 0, marked: 0 };
    // No lock is held while the broker confirms: a worker that gets a message first claims the
    // job straight away (a claim takes ready jobs too), and the mark below then leaves it alone.
    const chosen = await publish(jobs.map(({ version: _, ...job }) => job));
    // Only what was published is marked: a stale job left out keeps its dispatched_at, so it is
    // still the oldest candidate next time rather than waiting another staleMs.
    const only = chosen === undefined ? null : new Set(chosen);
    const marking = only === null ? jobs : jobs.filter((j) => only.has(j.id));
    const published = marking.filter((j) => j.state === 'ready').length;
    if (marking.length === 0) return { published: 0, republished: 0, marked: 0 };
    const [row] = await this.#db.query<{ marked: number }>(SQL.markDispatched, [marking.map((j) => j.id), marking.map((j) => j.version), this.#now()]);
    return { published, republished: marking.length - published, marked: row?.marked ?? 0 };
  }

  /** One process on an embedded store: it always leads. PgJobStore elects among processes. */
  async lead(_name: string, options: LeadOptions = {}): Promise<Leadership> {
    options.onChange?.(true);
    return { leading: true, close: async () => undefined };
  }

  /** A relay announces it is going to sleep (inserts start to NOTIFY), or that it is awake again. */
  async announceSleep(relayId: string, asleep: boolean): Promise<void> {
    if (asleep) await this.#db.query(SQL.announceSleep, [relayId, this.#now()]);
    else await this.#db.query(SQL.announceAwake, [relayId]);
  }

  async nextDue(): Promise<{ nextDue: Date | null; nextLeaseEnd: Date | null }> {
    const [row] = await this.#db.query<{ next_due: Date | null; next_lease_end: Date | null }>(SQL.nextDue, []);
    return { nextDue: row?.next_due ?? null, nextLeaseEnd: row?.next_lease_end ?? null };
  }

  /** Needs a connection of its own; adapters that have one override this. */
  async listen(_onWake: (what: 'ready' | 'scheduled') => void): Promise<{ close(): Promise<void> }> {
    throw new Error('this store cannot listen for notifications; poll instead');
  }

  async getJob(id: string): Promise<JobWithFailures | null> {
    const [row] = await this.#db.query<JobWithFailuresRow>(SQL.getJob, [checkId(id)]);
    return row ? toJobWithFailures(row) : null;
  }

  async findJobs(query: FindJobsQuery = {}): Promise<Job[]> {
    const states = query.states ?? null;
    states?.forEach((s, i) => {
      if (!(JOB_STATES as readonly string[]).includes(s)) throw new ValidationError(`states[${i}]`, `must be one of ${JOB_STATES.join(', ')}`);
    });
    const funcname = query.funcname === undefined ? null : validateFuncname(query.funcname);
    const argContains = query.argContains === undefined ? null : toJsonText(query.argContains, 'argContains');
    const beforeId = query.beforeId === undefined ? null : checkId(query.beforeId, 'beforeId');
    const limit = checkLimit(query.limit ?? 100, 1000);
    const rows = await this.#db.query<JobRow>(SQL.findJobs, [states as JobState[] | null, funcname, argContains, beforeId, limit]);
    return rows.map(toJob);
  }

  /** Live jobs (not yet finished), from the hot table only: cheap enough to poll. */
  async countLive(): Promise<number> {
    const [row] = await this.#db.query<{ live: number }>(SQL.countLive, []);
    return row?.live ?? 0;
  }

  async counts(): Promise<JobCount[]> {
    return this.#db.query<JobCount>(SQL.countJobs, []);
  }

  async close(): Promise<void> {
    await this.#onClose?.();
  }
}

/** Pairs each input with whether the statement returned its id. */
function accepted(inputs: readonly Grab[], rows: readonly { id: string }[]): OutcomeResult[] {
  const ok = new Set(rows.map((r) => r.id));
  return inputs.map((g) => ({ id: g.id, accepted: ok.has(g.id) }));
}
