/**
 * Input checks shared by the store's operations: job ids, grab tokens, leases, limits and
 * durations. Each throws a ValidationError naming the field before any statement runs.
 */
import { ValidationError, type ClaimOptions, type Grab } from '@drover/core';
import { DAY_MS } from './options.js';

/** Leases are measured in ms in an `int` parameter; a day is far beyond any sane lease and well inside int range. */
const LEASE_MAX_MS = DAY_MS;

const ID_PATTERN = /^[1-9][0-9]{0,18}$/;

/** PostgreSQL's bigint ceiling: a larger id would fail in the database instead of here. */
const BIGINT_MAX = 9223372036854775807n;

/** Ten years: any longer delay or retention is a unit mistake, and far beyond it timestamps overflow. */
const DURATION_MAX_MS = 10 * 365 * DAY_MS;

/** True for a job id (or grab token): a positive bigint, as a decimal string. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value) && BigInt(value) <= BIGINT_MAX;
}

/** Returns `id` if it is a job id; throws naming `field` otherwise. */
export function checkId(id: unknown, field = 'id'): string {
  if (!isId(id)) throw new ValidationError(field, 'must be a job id: a positive integer (at most 2^63-1), as a string');
  return id;
}

/** Returns the lease of a claim's options, in ms, if it is one the statements can take. */
export function checkLease(options: ClaimOptions): number {
  const ms = options?.leaseMs;
  if (!Number.isInteger(ms) || ms < 1 || ms > LEASE_MAX_MS) throw new ValidationError('leaseMs', `must be an integer from 1 to ${LEASE_MAX_MS}`);
  return ms;
}

/** Returns `limit` if it is an integer from 1 to `max`. */
export function checkLimit(limit: unknown, max: number, field = 'limit'): number {
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > max) throw new ValidationError(field, `must be an integer from 1 to ${max}`);
  return limit as number;
}

/**
 * Refuses a value that is not an array. Takes `unknown`: callers from plain JavaScript (or JSON)
 * may pass anything whatever the declared type says, and narrowing the typed value itself with
 * `Array.isArray` would turn it into `any[]`.
 */
export function checkArray(value: unknown, field: string, message = 'must be an array'): void {
  if (!Array.isArray(value)) throw new ValidationError(field, message);
}

/**
 * Validates a batch of grabs and returns it sorted by id. Every batched write locks its rows in id
 * order, so two batches over the same jobs (a worker's completions and the lease sweep, say)
 * cannot deadlock. One id twice in a batch is refused: its two writes could not both be reported.
 */
export function checkGrabs<T extends Grab>(grabs: readonly T[], field = 'grabs'): T[] {
  checkArray(grabs, field);
  const seen = new Set<string>();
  grabs.forEach((g, i) => {
    checkId(g?.id, `${field}[${i}].id`);
    if (!isId(g.grabToken)) throw new ValidationError(`${field}[${i}].grabToken`, 'must be the grab token of a claim');
    if (seen.has(g.id)) throw new ValidationError(`${field}[${i}].id`, `job ${g.id} appears twice in one batch`);
    seen.add(g.id);
  });
  return [...grabs].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/** Returns `ms` if it is a whole number of milliseconds from 0 to ten years. */
export function checkDuration(ms: unknown, field: string): number {
  if (!Number.isInteger(ms) || (ms as number) < 0 || (ms as number) > DURATION_MAX_MS) {
    throw new ValidationError(field, `must be a whole number of milliseconds from 0 to ${DURATION_MAX_MS} (ten years)`);
  }
  return ms as number;
}
