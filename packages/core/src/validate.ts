/**
 * Validation of what producers send. Every error names the field (`funcname`,
 * `jobs[2].arg.items[0]`) and is raised before anything is written.
 */
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { DEFAULT_MAX_RETRIES, MAX_RETRIES_LIMIT, PRIORITY_MAX, PRIORITY_MIN, type NewJob } from './job.js';

/** A funcname becomes part of a queue name, so it keeps to characters every broker accepts. */
export const FUNCNAME_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Keys and coalesce values are indexed; 255 characters keeps index entries small. */
const KEY_MAX = 255;

/** One attempt may run for at most a week; a longer timeout is almost surely a unit mistake (s vs ms). */
const TIMEOUT_MAX_MS = 7 * 24 * 60 * 60_000;

/** A job after validation: defaults applied, the argument serialised once. */
export interface ValidJob {
  funcname: string;
  /** The argument as JSON text, ready for a `jsonb` parameter. */
  argJson: string;
  uniqkey: string | null;
  /** Null means "now", by the store's clock. */
  runAfter: Date | null;
  priority: number;
  coalesce: string | null;
  maxRetries: number;
  timeoutMs: number | null;
  /** Null when the producer gave none. */
  idempotencyKey: string | null;
}

/**
 * The dates PostgreSQL and every client agree on: four-digit years. `timestamptz` itself reaches
 * further, but year 0 does not exist there (1 BC follows AD 1), and a year past 9999 has no
 * ISO 8601 form without a sign that JSON readers would have to parse back.
 */
export const DATE_MIN = new Date('0001-01-01T00:00:00.000Z');
/** See {@link DATE_MIN}. */
export const DATE_MAX = new Date('9999-12-31T23:59:59.999Z');

/** Why a date cannot be stored, or null when it can (a valid Date from year 1 to 9999, UTC). */
export function unstorableDateReason(date: Date): string | null {
  const t = date.getTime();
  if (!Number.isFinite(t)) return 'is not a valid date';
  if (t < DATE_MIN.getTime() || t > DATE_MAX.getTime()) return 'must fall between 0001-01-01 and 9999-12-31 (UTC)';
  return null;
}

/** Text PostgreSQL can hold (no NUL, no lone surrogate), as a zod refinement. */
const storable = (text: string, ctx: z.core.$RefinementCtx<string>): void => {
  const reason = unstorableTextReason(text);
  if (reason) ctx.addIssue({ code: 'custom', message: reason });
};

const optionalKey = (what: string) =>
  z.string({ error: `must be a string of 1 to ${KEY_MAX} characters, or null` })
    .min(1, { error: `must not be empty (use null for no ${what})` })
    .max(KEY_MAX, { error: `must be at most ${KEY_MAX} characters` })
    // A lone surrogate would be stored as U+FFFD, so two different keys would collide as one.
    .superRefine(storable)
    .nullish();

const newJobSchema = z.strictObject({
  funcname: z.string({ error: 'must be a string' }).regex(FUNCNAME_PATTERN, {
    error: 'must be 1 to 200 characters, each a letter, a digit or one of _ . : -',
  }),
  arg: z.unknown().optional(),
  uniqkey: optionalKey('uniqkey'),
  runAfter: z.union([z.date(), z.iso.datetime({ offset: true })], {
    error: 'must be a valid Date or an ISO 8601 date-time string with offset',
  }).superRefine((value, ctx) => {
    const reason = unstorableDateReason(new Date(value));
    if (reason) ctx.addIssue({ code: 'custom', message: reason });
  }).nullish(),
  priority: z.int({ error: `must be an integer from ${PRIORITY_MIN} to ${PRIORITY_MAX}` })
    .min(PRIORITY_MIN, { error: `must be an integer from ${PRIORITY_MIN} to ${PRIORITY_MAX}` })
    .max(PRIORITY_MAX, { error: `must be an integer from ${PRIORITY_MIN} to ${PRIORITY_MAX}` })
    .optional(),
  coalesce: optionalKey('coalesce value'),
  maxRetries: z.int({ error: `must be an integer from 0 to ${MAX_RETRIES_LIMIT}` })
    .min(0, { error: `must be an integer from 0 to ${MAX_RETRIES_LIMIT}` })
    .max(MAX_RETRIES_LIMIT, { error: `must be an integer from 0 to ${MAX_RETRIES_LIMIT}` })
    .optional(),
  timeoutMs: z.int({ error: `must be a whole number of milliseconds from 1 to ${TIMEOUT_MAX_MS}, or null` })
    .min(1, { error: `must be a whole number of milliseconds from 1 to ${TIMEOUT_MAX_MS}, or null` })
    .max(TIMEOUT_MAX_MS, { error: `must be a whole number of milliseconds from 1 to ${TIMEOUT_MAX_MS}, or null` })
    .nullish(),
  // Storable text is checked after parsing (checkStorableText), so the error names this field.
  idempotencyKey: optionalKey('idempotency key'),
});

/** Turns a zod failure into a ValidationError naming the first offending field. */
function toValidationError(error: z.ZodError, prefix: string): ValidationError {
  const issue = error.issues[0];
  if (!issue) return new ValidationError(prefix || 'job', 'is invalid');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '?';
    return new ValidationError(joinPath(prefix, [...issue.path, key]), 'is not a field of a job');
  }
  const field = issue.path.length === 0 ? prefix || 'job' : joinPath(prefix, issue.path);
  const message = issue.path.length === 0 && issue.code === 'invalid_type' ? 'must be an object with at least a funcname' : issue.message;
  return new ValidationError(field, message);
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  }
  return out;
}

/**
 * How deep a JSON value may nest. PostgreSQL's jsonb parser refuses depth past a few thousand
 * (its stack limit), and a walk this deep is no real document; 512 leaves every sane shape room.
 */
export const JSON_MAX_DEPTH = 512;

/** A NUL, or a UTF-16 surrogate without its pair: what PostgreSQL's text and jsonb cannot hold. */
// eslint-disable-next-line no-control-regex
const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why PostgreSQL would refuse this text, or null when it can hold it. */
export function unstorableTextReason(text: string): string | null {
  const match = UNSTORABLE_TEXT.exec(text);
  if (!match) return null;
  return match[0] === '\u0000'
    ? 'contains a NUL character (\\u0000), which PostgreSQL cannot store'
    : 'contains a lone UTF-16 surrogate, which is not valid Unicode';
}

/** Throws a ValidationError naming `field` when PostgreSQL could not store `text` as it is. */
export function checkStorableText(text: string, field: string): string {
  const reason = unstorableTextReason(text);
  if (reason) throw new ValidationError(field, reason);
  return text;
}

/**
 * Serialises a value to JSON text, refusing what JSON cannot carry faithfully instead of letting
 * `JSON.stringify` silently drop or mangle it (undefined, functions, symbols, bigints, NaN,
 * Infinity, cycles), and what PostgreSQL's jsonb would refuse after the fact (NUL characters,
 * lone surrogates, nesting past {@link JSON_MAX_DEPTH}): a refusal here names the field and
 * changes nothing, where PostgreSQL's would come after work was done.
 */
export function toJsonText(value: unknown, field: string): string {
  const seen = new Set<object>();
  // Iterative, not recursive: a value nested thousands deep must get a clear error, not overflow the stack.
  const stack: { v: unknown; path: string; depth: number; exit?: object }[] = [{ v: value, path: field, depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth, exit } = stack.pop()!;
    if (exit) {
      seen.delete(exit);
      continue;
    }
    switch (typeof v) {
      case 'string':
        checkStorableText(v, path);
        continue;
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(v)) throw new ValidationError(path, `${v} is not a JSON number`);
        continue;
      case 'bigint':
        throw new ValidationError(path, 'a bigint is not JSON (send it as a string)');
      case 'undefined':
        throw new ValidationError(path, 'undefined is not JSON (use null)');
      case 'function':
      case 'symbol':
        throw new ValidationError(path, `a ${typeof v} is not JSON`);
      case 'object': {
        if (v === null) continue;
        if (typeof (v as { toJSON?: unknown }).toJSON === 'function') continue;
        if (depth >= JSON_MAX_DEPTH) throw new ValidationError(path, `nests deeper than ${JSON_MAX_DEPTH} levels`);
        if (seen.has(v)) throw new ValidationError(path, 'is circular; JSON cannot hold cycles');
        seen.add(v);
        stack.push({ v: undefined, path, depth, exit: v });
        if (Array.isArray(v)) {
          for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i] as unknown, path: `${path}[${i}]`, depth: depth + 1 });
        } else {
          const proto = Object.getPrototypeOf(v) as unknown;
          if (proto !== Object.prototype && proto !== null) {
            throw new ValidationError(path, `a ${v.constructor?.name ?? 'class instance'} is not plain JSON`);
          }
          const entries: [string, unknown][] = Object.entries(v);
          for (let i = entries.length - 1; i >= 0; i--) {
            const [key, item] = entries[i]!;
            const at = `${path}.${key}`;
            checkStorableText(key, `${at} (key)`);
            stack.push({ v: item, path: at, depth: depth + 1 });
          }
        }
        continue;
      }
    }
  }
  return JSON.stringify(value);
}

/**
 * Validates one job and applies defaults. `field` prefixes error paths, e.g. `jobs[3]`.
 * `defaults.maxRetries` lets a client or function override {@link DEFAULT_MAX_RETRIES}.
 */
export function validateNewJob(input: NewJob, field = '', defaults: { maxRetries?: number } = {}): ValidJob {
  const parsed = newJobSchema.safeParse(input);
  if (!parsed.success) throw toValidationError(parsed.error, field);
  const job = parsed.data;
  const runAfter = job.runAfter == null ? null : new Date(job.runAfter);
  return {
    funcname: job.funcname,
    argJson: toJsonText(job.arg === undefined ? null : job.arg, joinPath(field, ['arg'])),
    uniqkey: job.uniqkey ?? null,
    runAfter,
    priority: job.priority ?? 0,
    coalesce: job.coalesce ?? null,
    maxRetries: job.maxRetries ?? defaults.maxRetries ?? DEFAULT_MAX_RETRIES,
    timeoutMs: job.timeoutMs ?? null,
    idempotencyKey: job.idempotencyKey == null ? null : checkStorableText(job.idempotencyKey, joinPath(field, ['idempotencyKey'])),
  };
}

/** Validates a batch; error paths read `jobs[i].field`. */
export function validateNewJobs(inputs: readonly NewJob[], defaults: { maxRetries?: number } = {}): ValidJob[] {
  // Checked as unknown: callers pass parsed JSON, and Array.isArray would narrow the typed parameter to any[].
  const given: unknown = inputs;
  if (!Array.isArray(given)) throw new ValidationError('jobs', 'must be an array of jobs');
  return inputs.map((job, i) => validateNewJob(job, `jobs[${i}]`, defaults));
}

/** Validates a funcname on its own (queue names, filters). */
export function validateFuncname(funcname: unknown, field = 'funcname'): string {
  if (typeof funcname !== 'string' || !FUNCNAME_PATTERN.test(funcname)) {
    throw new ValidationError(field, 'must be 1 to 200 characters, each a letter, a digit or one of _ . : -');
  }
  return funcname;
}
