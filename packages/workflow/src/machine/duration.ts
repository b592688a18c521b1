// Durations as `sleep`, `wait_for_event`'s timeout and `wait_for_lock`'s wait give them: a number
// of seconds, or PostgreSQL-interval-like text ("10 seconds", "1 hour 5 minutes", "11.55 seconds"),
// which is what JobCenter hands to `::interval`. Months and years are left out on purpose: their
// length depends on the calendar, and a step machine that must be deterministic has no calendar.
import type { Json } from '../ast.js';

const UNIT_SECONDS: { readonly [unit: string]: number } = {
  ms: 0.001, millisecond: 0.001, milliseconds: 0.001, msec: 0.001, msecs: 0.001,
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hour: 3600, hours: 3600,
  d: 86_400, day: 86_400, days: 86_400,
  w: 604_800, week: 604_800, weeks: 604_800,
};

const PART = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*/i;

/**
 * The duration in milliseconds, or null when the value is not a duration (a negative number,
 * unknown unit, empty text). A bare number, or a number without unit in text, is seconds.
 */
export function parseDuration(value: Json): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  if (typeof value !== 'string') return null;
  let rest = value.trim();
  if (rest === '') return null;
  let seconds = 0;
  while (rest !== '') {
    const m = PART.exec(rest);
    if (!m) return null;
    const unit = (m[2] ?? '').toLowerCase();
    const factor = unit === '' ? 1 : UNIT_SECONDS[unit];
    if (factor === undefined) return null;
    seconds += Number(m[1]) * factor;
    rest = rest.slice(m[0].length);
  }
  return Math.round(seconds * 1000);
}
