/**
 * Parsing of what operators and producers send as text: job ids, reschedule times, JSON
 * arguments, whole numbers and the job-list filters. The HTTP API and the CLI both parse here, so
 * they refuse the same things the same way, and what PostgreSQL would refuse is refused first,
 * with a {@link ValidationError} that names the field as the caller spelled it (`state`,
 * `--state`), never as the store calls it internally (`states[0]`).
 */
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { JOB_STATES, type JobState, type Json } from './job.js';
import type { FindJobsQuery, RescheduleWhen } from './ports.js';
import { toJsonText, unstorableDateReason, unstorableTextReason, validateFuncname } from './validate.js';

/** A job id: a positive decimal integer without leading zeros, as PostgreSQL's bigint holds it. */
const JOB_ID_PATTERN = /^[1-9][0-9]{0,18}$/;
/** PostgreSQL's bigint ceiling: a larger id would fail in the database instead of here. */
const BIGINT_MAX = 9223372036854775807n;

/** Ten years, in seconds: a longer `+N` is a unit mistake (ms for s), and the store refuses it too. */
const RESCHEDULE_OFFSET_MAX_S = 10 * 365 * 24 * 60 * 60;
/** `+N` seconds, whole or with a fraction (`+1.5`). */
const OFFSET_PATTERN = /^\+\d{1,12}(\.\d{1,3})?$/;

/** `findJobs` returns at most this many; the store's own ceiling. */
export const FIND_LIMIT_MAX = 1000;

const isoWithOffset = z.iso.datetime({ offset: true });

/** Throws unless `raw` is a job id; returns it. */
export function parseJobId(raw: unknown, field = 'id'): string {
  if (typeof raw !== 'string' || !JOB_ID_PATTERN.test(raw) || BigInt(raw) > BIGINT_MAX) {
    throw new ValidationError(field, 'must be a job id: a positive integer (at most 2^63-1), as a string');
  }
  return raw;
}

/**
 * Parses when a rescheduled job may run: `never`, `+N` seconds from now (at most ten years), an
 * ISO 8601 date-time with an offset (`2030-01-01T10:00:00Z`), or a Date. Anything else is refused:
 * `new Date()` reads `"1"` as the year 2001, which would run a waiting job at once.
 */
export function parseRescheduleWhen(raw: unknown, field = 'when'): RescheduleWhen {
  const expected = "must be 'never', '+N' (seconds from now, at most ten years) or an ISO 8601 date-time with offset";
  if (raw === 'never') return 'never';
  if (typeof raw === 'string' && OFFSET_PATTERN.test(raw)) {
    if (Number(raw.slice(1)) > RESCHEDULE_OFFSET_MAX_S) throw new ValidationError(field, expected);
    return raw as RescheduleWhen;
  }
  let date: Date;
  if (raw instanceof Date) date = raw;
  else if (typeof raw === 'string' && isoWithOffset.safeParse(raw).success) date = new Date(raw);
  else throw new ValidationError(field, expected);
  const reason = unstorableDateReason(date);
  if (reason) throw new ValidationError(field, reason);
  return date;
}

/**
 * Parses JSON text, refusing what the store would refuse in the value (numbers JSON cannot hold
 * such as `1e400`, NUL characters, lone surrogates, nesting past the limit), naming the path.
 */
export function parseJsonText(text: string, field: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(field, `is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  toJsonText(value, field);
  return value as Json;
}

/** Parses a whole decimal number from `min` to `max`. */
export function parseWholeNumber(text: string, field: string, min: number, max: number): number {
  const n = /^-?\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ValidationError(field, `must be a whole number from ${min} to ${max}`);
  return n;
}

/** The filters of a job listing, by the names callers use (`GET /jobs?state=…`, `drover jobs --state …`). */
export const JOB_FILTERS = ['state', 'funcname', 'arg', 'limit', 'before'] as const;
/** One of {@link JOB_FILTERS}. */
export type JobFilter = (typeof JOB_FILTERS)[number];

/**
 * Parses job-list filters given as text: each value a string or, where a caller repeated it, a
 * list of strings. `state` may repeat and may list states separated by commas; the others must be
 * given once. An empty value is refused rather than dropped (it would widen the listing). Errors
 * name each filter through `name` (the CLI says `--state`); an unknown filter is refused by name.
 */
export function parseJobFilters(
  raw: Readonly<Record<string, unknown>>,
  name: (filter: JobFilter) => string = (f) => f,
  defaults: { limit?: number } = {},
): FindJobsQuery {
  for (const key of Object.keys(raw)) {
    if (raw[key] !== undefined && !(JOB_FILTERS as readonly string[]).includes(key)) {
      throw new ValidationError(key, `is not a filter; the filters are ${JOB_FILTERS.join(', ')}`);
    }
  }
  const texts = (filter: JobFilter): string[] | undefined => {
    const value = raw[filter];
    if (value === undefined) return undefined;
    const list = Array.isArray(value) ? (value as unknown[]) : [value];
    return list.map((v) => {
      if (typeof v !== 'string') throw new ValidationError(name(filter), 'must be text');
      if (v === '') throw new ValidationError(name(filter), 'must not be empty (leave the filter out instead)');
      const reason = unstorableTextReason(v);
      if (reason) throw new ValidationError(name(filter), reason);
      return v;
    });
  };
  const once = (filter: JobFilter): string | undefined => {
    const list = texts(filter);
    if (list && list.length !== 1) throw new ValidationError(name(filter), 'must be given once');
    return list?.[0];
  };

  const query: FindJobsQuery = {};
  const states = texts('state')?.flatMap((s) => s.split(','));
  if (states) {
    query.states = states.map((s) => {
      if (!(JOB_STATES as readonly string[]).includes(s)) throw new ValidationError(name('state'), `'${s}' is not a state; use ${JOB_STATES.join(', ')}`);
      return s as JobState;
    });
  }
  const funcname = once('funcname');
  if (funcname !== undefined) query.funcname = validateFuncname(funcname, name('funcname'));
  const arg = once('arg');
  if (arg !== undefined) query.argContains = parseJsonText(arg, name('arg'));
  const limit = once('limit');
  if (limit !== undefined) query.limit = parseWholeNumber(limit, name('limit'), 1, FIND_LIMIT_MAX);
  else if (defaults.limit !== undefined) query.limit = defaults.limit;
  const before = once('before');
  if (before !== undefined) query.beforeId = parseJobId(before, name('before'));
  return query;
}

/** The filters of a trigger listing (`GET /triggers?funcname=…`, `drover triggers list --funcname …`). */
export const TRIGGER_FILTERS = ['funcname', 'limit', 'before'] as const;
/** One of {@link TRIGGER_FILTERS}. */
export type TriggerFilter = (typeof TRIGGER_FILTERS)[number];

/**
 * Parses the filters of a trigger listing, or of a trigger's jobs (`allowed` without `funcname`),
 * given as text, as {@link parseJobFilters} parses a job listing's: each once, none empty, an
 * unknown one refused by name, errors naming each through `name`.
 */
export function parseTriggerFilters(
  raw: Readonly<Record<string, unknown>>,
  name: (filter: TriggerFilter) => string = (f) => f,
  allowed: readonly TriggerFilter[] = TRIGGER_FILTERS,
): { funcname?: string; limit?: number; beforeId?: string } {
  for (const key of Object.keys(raw)) {
    if (raw[key] !== undefined && !(allowed as readonly string[]).includes(key)) {
      throw new ValidationError(key, `is not a filter; the filters are ${allowed.join(', ')}`);
    }
  }
  const once = (filter: TriggerFilter): string | undefined => {
    const value = raw[filter];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new ValidationError(name(filter), 'must be text, given once');
    if (value === '') throw new ValidationError(name(filter), 'must not be empty (leave the filter out instead)');
    return value;
  };
  const query: { funcname?: string; limit?: number; beforeId?: string } = {};
  const funcname = once('funcname');
  if (funcname !== undefined) query.funcname = validateFuncname(funcname, name('funcname'));
  const limit = once('limit');
  if (limit !== undefined) query.limit = parseWholeNumber(limit, name('limit'), 1, FIND_LIMIT_MAX);
  const before = once('before');
  if (before !== undefined) query.beforeId = parseJobId(before, name('before'));
  return query;
}
