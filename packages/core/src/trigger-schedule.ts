/**
 * Trigger specs and their time: parsing cozy-stack's syntax (`@every 10s`, `@cron 0 0 3 * * *`,
 * …) and deciding, for a due trigger, which ticks fire and when it is due next. Pure functions of
 * their inputs (the time comes in as an argument), so the scheduler's decisions are tested without
 * a clock or a database. Cron specs are evaluated by croner, which handles time zones and
 * daylight-saving changes (a time skipped in spring fires at the end of the gap, as Vixie cron
 * does; a time repeated in autumn fires once).
 */
import { Cron } from 'croner';
import { parseDuration } from './duration.js';
import { parseEventSelector } from './event.js';
import { ValidationError } from './errors.js';

/** Every trigger type, by its spec's keyword (`@hourly` and friends are `cron`). */
export const TRIGGER_TYPES = ['at', 'in', 'every', 'cron', 'event', 'webhook', 'client'] as const;
/** A trigger's type: one of {@link TRIGGER_TYPES}. */
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/**
 * What a recurring trigger does about ticks missed while no scheduler ran: `one` job for the whole
 * stretch (the default), `all` (one job per missed tick), or `none`.
 */
export const CATCH_UP_POLICIES = ['one', 'all', 'none'] as const;
/** A catch-up policy: one of {@link CATCH_UP_POLICIES}. */
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

/** A spec's meaning: when (or on what) the trigger fires. */
export type TriggerSchedule =
  | { type: 'at'; at: Date }
  | { type: 'in'; delayMs: number }
  | { type: 'every'; intervalMs: number }
  | { type: 'cron'; pattern: string }
  | { type: 'event'; selector: string }
  | { type: 'webhook' }
  | { type: 'client' };

/** A parsed spec: its normalised text, its type, its argument (the text after the keyword) and its meaning. */
export interface ParsedTriggerSpec {
  spec: string;
  type: TriggerType;
  args: string;
  schedule: TriggerSchedule;
}

/** cozy-stack's shorthands, in six fields (seconds first). A Map: a spec such as `constructor` must find nothing. */
const CRON_ALIASES: ReadonlyMap<string, string> = new Map([
  ['@hourly', '0 0 * * * *'],
  ['@daily', '0 0 0 * * *'],
  ['@weekly', '0 0 0 * * 0'],
  ['@monthly', '0 0 0 1 * *'],
]);

/** An ISO 8601 date-time with an offset or Z, as `@at` takes it. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** A selector's length bound: twenty rules of fifty characters. Its grammar is event.ts's. */
const SELECTOR_MAX = 1000;

/** Throws a ValidationError naming `field` unless `zone` is an IANA time zone this runtime knows. */
export function checkTimeZone(zone: unknown, field = 'timeZone'): string {
  if (typeof zone !== 'string' || zone.length === 0) throw new ValidationError(field, 'must be an IANA time zone name such as UTC or Europe/Amsterdam');
  try {
    // Resolves the canonical name too, but the name as given is what croner and the reader expect.
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new ValidationError(field, `"${zone}" is not an IANA time zone this system knows (such as UTC or Europe/Amsterdam)`);
  }
  return zone;
}

/** A croner evaluator of a six-field pattern in a zone. Made without a function, so it starts no timer. */
function cronIn(pattern: string, timeZone: string): Cron {
  return new Cron(pattern, { timezone: timeZone });
}

/** Parses `@cron`'s argument: five or six fields (five get seconds = 0), checked by croner. */
function parseCron(args: string, field: string): string {
  const fields = args.split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new ValidationError(field, `@cron takes six fields (second minute hour day-of-month month day-of-week) or five without seconds; got ${fields.length}`);
  }
  const pattern = (fields.length === 5 ? ['0', ...fields] : fields).join(' ');
  try {
    // Something must be due at some time: croner refuses what never matches only when asked for a run.
    if (!cronIn(pattern, 'UTC').nextRun(new Date(0))) throw new Error('it never matches');
  } catch (err) {
    throw new ValidationError(field, `"${args}" is not a valid cron spec: ${(err as Error).message}`, { cause: err });
  }
  return pattern;
}

/**
 * Parses a trigger spec (`@every 10s`, `@cron 0 0 3 * * *`, `@daily`, `@at 2030-01-01T03:00:00Z`,
 * `@in 5s`, `@event selector`, `@webhook`, `@client`), with errors naming `field`.
 */
export function parseTriggerSpec(spec: unknown, field = 'spec'): ParsedTriggerSpec {
  if (typeof spec !== 'string') throw new ValidationError(field, 'must be a trigger spec such as "@every 10s" or "@cron 0 0 3 * * *"');
  const text = spec.trim().replace(/\s+/g, ' ');
  const [keyword = '', ...rest] = text.split(' ');
  const args = rest.join(' ');
  const noArgs = (): void => {
    if (args) throw new ValidationError(field, `${keyword} takes no argument`);
  };
  const alias = CRON_ALIASES.get(keyword);
  if (alias) {
    noArgs();
    return { spec: text, type: 'cron', args: alias, schedule: { type: 'cron', pattern: alias } };
  }
  switch (keyword) {
    case '@at': {
      if (!ISO_DATE_TIME.test(args)) throw new ValidationError(field, '@at takes an ISO 8601 date-time with an offset, such as 2030-01-01T03:00:00Z');
      const at = new Date(args);
      if (!Number.isFinite(at.getTime())) throw new ValidationError(field, `"${args}" is not a valid date-time`);
      return { spec: text, type: 'at', args, schedule: { type: 'at', at } };
    }
    case '@in':
      return { spec: text, type: 'in', args, schedule: { type: 'in', delayMs: parseDuration(args, field) } };
    case '@every':
      return { spec: text, type: 'every', args, schedule: { type: 'every', intervalMs: parseDuration(args, field) } };
    case '@cron': {
      const pattern = parseCron(args, field);
      return { spec: text, type: 'cron', args: pattern, schedule: { type: 'cron', pattern } };
    }
    case '@event':
      if (args.length > SELECTOR_MAX) throw new ValidationError(field, `the selector must be at most ${SELECTOR_MAX} characters`);
      parseEventSelector(args, field);
      return { spec: text, type: 'event', args, schedule: { type: 'event', selector: args } };
    case '@webhook':
      noArgs();
      return { spec: text, type: 'webhook', args: '', schedule: { type: 'webhook' } };
    case '@client':
      noArgs();
      return { spec: text, type: 'client', args: '', schedule: { type: 'client' } };
    default:
      throw new ValidationError(field, `unknown trigger type "${keyword}"; use @at, @in, @every, @cron, @hourly, @daily, @weekly, @monthly, @event, @webhook or @client`);
  }
}

/** When a trigger made at `now` first fires; null for triggers that fire only on demand (event, webhook, client). */
export function firstFireAt(schedule: TriggerSchedule, timeZone: string, now: Date): Date | null {
  switch (schedule.type) {
    case 'at':
      return schedule.at;
    case 'in':
      return new Date(now.getTime() + schedule.delayMs);
    case 'every':
      return new Date(now.getTime() + schedule.intervalMs);
    case 'cron':
      return cronIn(schedule.pattern, timeZone).nextRun(now);
    default:
      return null;
  }
}

/**
 * Ticks no later than this past their time are on time, not missed: what a busy scheduler looks
 * like (a pass that took a while, a wake-up a little late). Only the `none` policy asks.
 */
export const LATE_GRACE_MS = 60_000;

/**
 * With `all`, at most this many ticks of one trigger fire in one pass, so that the pass's
 * transaction stays small; a longer backlog goes on at the next pass, which comes at once since
 * the trigger is still due.
 */
export const CATCH_UP_MAX_PER_PASS = 1_000;

/** What a due trigger does now: the ticks that get a job, and when it is due next (null: never again). */
export interface FirePlan {
  fire: Date[];
  next: Date | null;
}

/** Ticks of a recurring schedule: the first after `after`. */
function tickAfter(schedule: TriggerSchedule, timeZone: string, after: Date, cron: Cron | null): Date | null {
  if (schedule.type === 'every') return new Date(after.getTime() + schedule.intervalMs);
  return cron?.nextRun(after) ?? null;
}

/**
 * Decides what a trigger due at `due` does at `now` (due <= now). `@at` and `@in` fire their one
 * job whatever the policy and are done. A recurring trigger's due ticks run from `due` to `now`;
 * each policy fires:
 * - `one`: one job for the latest tick, however many were missed;
 * - `all`: a job per tick, at most {@link CATCH_UP_MAX_PER_PASS} per pass (then `next` is still due);
 * - `none`: a job only if a single tick is due and it is at most {@link LATE_GRACE_MS} late.
 * `next` is the first tick after the last one handled: after `now`, except when `all` stopped at its bound.
 */
export function planFires(schedule: TriggerSchedule, timeZone: string, catchUp: CatchUpPolicy, due: Date, now: Date): FirePlan {
  if (schedule.type === 'at' || schedule.type === 'in') return { fire: [due], next: null };
  if (schedule.type !== 'every' && schedule.type !== 'cron') return { fire: [], next: null };
  const cron = schedule.type === 'cron' ? cronIn(schedule.pattern, timeZone) : null;
  if (catchUp === 'all') {
    const fire: Date[] = [];
    let tick: Date | null = due;
    while (tick && tick.getTime() <= now.getTime() && fire.length < CATCH_UP_MAX_PER_PASS) {
      fire.push(tick);
      tick = tickAfter(schedule, timeZone, tick, cron);
    }
    return { fire, next: tick };
  }
  // The latest due tick, and the first after now, without walking a long stretch tick by tick.
  let latest: Date;
  let next: Date | null;
  if (schedule.type === 'every') {
    const n = Math.floor((now.getTime() - due.getTime()) / schedule.intervalMs);
    latest = new Date(due.getTime() + n * schedule.intervalMs);
    next = new Date(latest.getTime() + schedule.intervalMs);
  } else {
    next = cron!.nextRun(now);
    // croner's previousRuns looks strictly before its reference; a tick exactly at now counts as due.
    const onNow = cron!.nextRun(new Date(now.getTime() - 1));
    latest = onNow && onNow.getTime() === now.getTime() ? onNow : (cron!.previousRuns(1, now)[0] ?? due);
    if (latest.getTime() < due.getTime()) latest = due;
  }
  if (catchUp === 'one') return { fire: [latest], next };
  const single = latest.getTime() === due.getTime();
  const onTime = now.getTime() - due.getTime() <= LATE_GRACE_MS;
  return { fire: single && onTime ? [due] : [], next };
}
