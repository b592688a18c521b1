// Durations for `sleep` (and timeouts given as text), read as JobCenter passes them to
// PostgreSQL's `::interval`: a number of seconds, or interval text such as "10 seconds",
// "1 hour 5 minutes", "11.55 seconds", "2 days" or "00:01:30".
import type { Json, Pos } from '../ast.js';
import { WorkflowError } from '../ports.js';

const MS: Record<string, number> = {};
function unit(ms: number, ...names: string[]): void {
  for (const name of names) MS[name] = ms;
}
unit(0.001, 'microsecond', 'microseconds', 'us', 'usec', 'usecs');
unit(1, 'millisecond', 'milliseconds', 'ms', 'msec', 'msecs');
unit(1000, 'second', 'seconds', 's', 'sec', 'secs');
unit(60_000, 'minute', 'minutes', 'm', 'min', 'mins');
unit(3_600_000, 'hour', 'hours', 'h', 'hr', 'hrs');
unit(86_400_000, 'day', 'days', 'd');
unit(7 * 86_400_000, 'week', 'weeks', 'w');
// PostgreSQL's extract(epoch from interval) counts a month as 30 days and a year as 365.25.
unit(30 * 86_400_000, 'month', 'months', 'mon', 'mons');
unit(365.25 * 86_400_000, 'year', 'years', 'y', 'yr', 'yrs');

const NUMBER = /^\d+(?:\.\d*)?$|^\.\d+$/;
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)$/;
// PostgreSQL reads "01:30" as hours and minutes, "00:01:30" and "00:01:30.5" with seconds.
const CLOCK = /^(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$/;

/**
 * A duration in milliseconds (rounded to whole milliseconds). Negative, non-finite and unreadable
 * values are a `normal` WorkflowError quoting the value.
 */
export function parseDuration(value: Json, pos?: Pos): number {
  const bad = (why: string): WorkflowError =>
    new WorkflowError('normal', `duration ${JSON.stringify(value)} ${why}`, pos);
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw bad('must be a non-negative number of seconds');
    return bounded(value * 1000, bad);
  }
  if (typeof value !== 'string') throw bad('must be a number of seconds or interval text like "10 seconds"');
  const text = value.trim().toLowerCase().replace(/^@\s*/, '');
  if (text === '') throw bad('is empty');
  if (NUMBER.test(text)) return bounded(Number(text) * 1000, bad);

  // Split into quantities ("5 minutes", "10s") and at most one clock ("01:30:00").
  const tokens = text.match(/\d*\.?\d+(?::\d+(?::\d+(?:\.\d+)?)?)?\s*[a-z]*|\S+/g) ?? [];
  let total = 0;
  let clockSeen = false;
  for (const raw of tokens) {
    const token = raw.trim();
    const clock = CLOCK.exec(token);
    if (clock) {
      if (clockSeen) throw bad('has two clock times');
      clockSeen = true;
      const minutes = Number(clock[2]);
      const seconds = clock[3] === undefined ? 0 : Number(clock[3]);
      if (minutes >= 60 || seconds >= 60) throw bad('has minutes or seconds of 60 or more');
      total += Number(clock[1]) * 3_600_000 + minutes * 60_000 + seconds * 1000;
      continue;
    }
    const quantity = QUANTITY.exec(token);
    const ms = quantity ? MS[quantity[2]!] : undefined;
    if (!quantity || ms === undefined) throw bad(`has ${JSON.stringify(token)}, not a number with a unit (seconds, minutes, hours, days, …)`);
    total += Number(quantity[1]) * ms;
  }
  return bounded(total, bad);
}

/** Whole milliseconds; past 2^53 ms (285,000 years) a timestamp cannot hold the end anyway. */
function bounded(ms: number, bad: (why: string) => WorkflowError): number {
  if (!(ms <= Number.MAX_SAFE_INTEGER)) throw bad('is too long');
  return Math.round(ms);
}
