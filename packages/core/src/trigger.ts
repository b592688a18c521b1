/**
 * Triggers: stored rules that create jobs without anyone enqueueing them (cozy-stack's triggers).
 * A trigger holds a spec (when, or on what, it fires), the job it creates (function, argument and
 * options), a catch-up policy and its state (next fire, last execution, last success and failure).
 * This file holds the types and the validation of what an operator sends; the spec's meaning and
 * the firing decisions are in trigger-schedule.ts.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { ValidationError } from './errors.js';
import type { Json } from './job.js';
import { CATCH_UP_POLICIES, checkTimeZone, parseTriggerSpec, type CatchUpPolicy, type ParsedTriggerSpec, type TriggerType } from './trigger-schedule.js';
import { validateNewJob, type ValidJob } from './validate.js';

/** What an operator supplies to create a trigger. Only `spec` and `funcname` are required. */
export interface NewTrigger {
  /** When or on what it fires: `@at <ISO 8601>`, `@in <duration>`, `@every <duration>`, `@cron <spec>`, `@hourly`, `@daily`, `@weekly`, `@monthly`, `@event <selector>`, `@webhook`, `@client`. */
  spec: string;
  /** The function of the jobs it creates. */
  funcname: string;
  /** Their argument. Defaults to null. */
  arg?: unknown;
  /** Their priority, -100 to 100. */
  priority?: number;
  /** Their retries before failing for good. */
  maxRetries?: number;
  /** How long one attempt of theirs may run, ms; null leaves it to the worker. */
  timeoutMs?: number | null;
  /** At most one live job per (funcname, uniqkey): a fire while the last job is live creates nothing. */
  uniqkey?: string | null;
  /** The IANA time zone of a cron spec. Defaults to UTC. */
  timeZone?: string;
  /** What a recurring trigger does about ticks missed while no scheduler ran. Defaults to `one`. */
  catchUp?: CatchUpPolicy;
  /**
   * For `@event` and `@webhook`: a Go-style duration that gathers a burst into one job. The first
   * match schedules a job that long later; matches until then create nothing more.
   */
  debounce?: string | null;
  /**
   * For `@webhook`: a shared secret; a POST must then carry `X-Hub-Signature-256: sha256=<hex>`,
   * the HMAC-SHA256 of its body under this secret (GitHub's scheme). Never reported back.
   */
  webhookSecret?: string | null;
  /** A disabled trigger does not fire on time (it can still be launched). Defaults to true. */
  enabled?: boolean;
}

/** Changes to a trigger: any field of {@link NewTrigger}; a new spec or time zone reschedules it from now. */
export type TriggerPatch = Partial<NewTrigger>;

/** A trigger as the store reports it, with its state. */
export interface Trigger {
  id: string;
  spec: string;
  type: TriggerType;
  /** The spec's argument (a cron spec in six fields, an `@every` duration, an `@event` selector). */
  args: string;
  timeZone: string;
  funcname: string;
  arg: Json;
  priority: number;
  maxRetries: number;
  timeoutMs: number | null;
  uniqkey: string | null;
  debounceMs: number | null;
  catchUp: CatchUpPolicy;
  enabled: boolean;
  /** A `@webhook`'s unguessable id: it fires on `POST /webhooks/<webhookId>`. Null for other types. */
  webhookId: string | null;
  /** Whether a `@webhook` checks a signature (has a secret; the secret itself is never reported). */
  webhookSigned: boolean;
  /** When it fires next; null when it fires only on demand, or is done. */
  nextFireAt: Date | null;
  /** An `@at` or `@in` trigger that has fired. */
  done: boolean;
  /** Jobs it has created (fires and launches). */
  fires: number;
  /** The last time it created a job, and that job. */
  lastFiredAt: Date | null;
  lastJobId: string | null;
  /** The last of its jobs that completed, and when. */
  lastSuccessAt: Date | null;
  lastSuccessJobId: string | null;
  /** The last of its jobs that failed for good, when, and its last error. */
  lastFailureAt: Date | null;
  lastFailureJobId: string | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A trigger after validation: the parsed spec, defaults applied, the job's fields as an insert takes them. */
export interface ValidTrigger extends ParsedTriggerSpec {
  timeZone: string;
  job: Pick<ValidJob, 'funcname' | 'argJson' | 'priority' | 'maxRetries' | 'timeoutMs' | 'uniqkey'>;
  catchUp: CatchUpPolicy;
  debounceMs: number | null;
  webhookSecret: string | null;
  enabled: boolean;
}

/** The longest debounce window: `debounce_ms` is a PostgreSQL integer. */
const DEBOUNCE_MAX_MS = 2_147_483_647;
const triggerFields = z.strictObject({
  spec: z.unknown(),
  funcname: z.unknown(),
  arg: z.unknown().optional(),
  priority: z.unknown().optional(),
  maxRetries: z.unknown().optional(),
  timeoutMs: z.unknown().optional(),
  uniqkey: z.unknown().optional(),
  timeZone: z.unknown().optional(),
  catchUp: z.unknown().optional(),
  debounce: z.unknown().optional(),
  webhookSecret: z.unknown().optional(),
  enabled: z.unknown().optional(),
});

/**
 * A webhook secret: printable ASCII, so that an operator can type it into the sender's settings.
 * 16 characters at least: a shorter one would be guessable offline from one signed request.
 */
const SECRET_MIN = 16;
/** A secret longer than this is a mistake (a pasted file), not more security. */
const SECRET_MAX = 1024;
const SECRET_PATTERN = new RegExp(`^[\\x20-\\x7e]{${SECRET_MIN},${SECRET_MAX}}$`);

/** Only these types receive bursts of events to debounce. */
const DEBOUNCED_TYPES: readonly TriggerType[] = ['event', 'webhook'];

/**
 * Validates a new trigger, naming the offending field (`spec`, `timeZone`, `arg.items[0]`…) before
 * anything is written. `defaults.maxRetries` is the store's default for the jobs it creates.
 */
export function validateNewTrigger(input: NewTrigger, defaults: { maxRetries?: number } = {}): ValidTrigger {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError('trigger', 'must be an object with at least a spec and a funcname');
  const shape = triggerFields.safeParse(input);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) throw new ValidationError(issue.keys[0], 'is not a field of a trigger');
    // The only other refusal of this shape: a required field (spec, funcname) left out.
    const missing = issue?.path[0];
    throw new ValidationError(typeof missing === 'string' ? missing : 'trigger', typeof missing === 'string' ? 'is required' : 'is invalid');
  }
  const parsed = parseTriggerSpec(input.spec, 'spec');
  const timeZone = input.timeZone === undefined ? 'UTC' : checkTimeZone(input.timeZone, 'timeZone');
  const job = validateNewJob(
    {
      funcname: input.funcname,
      arg: input.arg,
      ...(input.priority === undefined ? {} : { priority: input.priority }),
      ...(input.maxRetries === undefined ? {} : { maxRetries: input.maxRetries }),
      ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
      ...(input.uniqkey === undefined ? {} : { uniqkey: input.uniqkey }),
    },
    '',
    defaults,
  );
  const catchUp = input.catchUp ?? 'one';
  if (!(CATCH_UP_POLICIES as readonly unknown[]).includes(catchUp)) throw new ValidationError('catchUp', `must be one of ${CATCH_UP_POLICIES.join(', ')}`);
  let debounceMs: number | null = null;
  if (input.debounce !== undefined && input.debounce !== null) {
    debounceMs = parseDuration(input.debounce, 'debounce');
    // Stored in an integer column (milliseconds): a longer window would fail in the database, naming nothing.
    if (debounceMs > DEBOUNCE_MAX_MS) throw new ValidationError('debounce', 'must be at most 24 days (a window of 2^31-1 ms)');
    if (!DEBOUNCED_TYPES.includes(parsed.type)) throw new ValidationError('debounce', 'only @event and @webhook triggers debounce');
  }
  let webhookSecret: string | null = null;
  if (input.webhookSecret !== undefined && input.webhookSecret !== null) {
    if (typeof input.webhookSecret !== 'string' || !SECRET_PATTERN.test(input.webhookSecret)) {
      throw new ValidationError('webhookSecret', `must be ${SECRET_MIN} to ${SECRET_MAX} printable ASCII characters`);
    }
    if (parsed.type !== 'webhook') throw new ValidationError('webhookSecret', 'only @webhook triggers take a secret');
    webhookSecret = input.webhookSecret;
  }
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') throw new ValidationError('enabled', 'must be true or false');
  return {
    ...parsed,
    timeZone,
    job: { funcname: job.funcname, argJson: job.argJson, priority: job.priority, maxRetries: job.maxRetries, timeoutMs: job.timeoutMs, uniqkey: job.uniqkey },
    catchUp,
    debounceMs,
    webhookSecret,
    enabled: input.enabled ?? true,
  };
}

/**
 * The fields of a stored trigger as a {@link NewTrigger}: what an update merges its patch into.
 * A webhook's secret is not part of a {@link Trigger}; the store passes it in.
 */
export function triggerAsNew(trigger: Trigger, webhookSecret: string | null = null): NewTrigger {
  return {
    spec: trigger.spec,
    funcname: trigger.funcname,
    arg: trigger.arg,
    priority: trigger.priority,
    maxRetries: trigger.maxRetries,
    timeoutMs: trigger.timeoutMs,
    uniqkey: trigger.uniqkey,
    timeZone: trigger.timeZone,
    catchUp: trigger.catchUp,
    debounce: trigger.debounceMs === null ? null : `${trigger.debounceMs}ms`,
    webhookSecret,
    enabled: trigger.enabled,
  };
}
