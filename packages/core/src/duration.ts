/**
 * Go-style durations (`90s`, `1h30m`, `500ms`, `1.5h`), the syntax cozy-stack's triggers use for
 * `@in`, `@every` and debounce. Parsed here rather than by a library: the grammar is Go's
 * `time.ParseDuration`, a sequence of decimal numbers each with a unit, and the npm parsers for
 * "human" durations accept more (`1 hour`, `1d`) than a trigger spec should.
 */
import { ValidationError } from './errors.js';

/** Milliseconds per unit; Go's units, down to the nanosecond. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/** Ten years: a longer interval or delay is a unit mistake, and far beyond it timestamps overflow. */
export const DURATION_MAX_MS = 10 * 365 * 24 * 3_600_000;

/**
 * Parses a Go-style duration into whole milliseconds, refusing zero, negative, sub-millisecond
 * remainders and anything longer than ten years, with an error naming `field`.
 */
export function parseDuration(text: unknown, field: string): number {
  if (typeof text !== 'string') throw new ValidationError(field, 'must be a duration such as 90s, 1h30m or 500ms');
  const match = DURATION.exec(text.trim());
  if (!match) throw new ValidationError(field, `"${text}" is not a duration; use numbers with units ns, us, ms, s, m, h (90s, 1h30m, 500ms)`);
  let ms = 0;
  for (const [, amount, unit] of match[2]!.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit!]!;
  // Float sums such as 0.1h + 0.2h land a hair off a whole millisecond; a millionth is far below any real intent.
  const rounded = Math.round(ms);
  if (Math.abs(ms - rounded) > 1e-6) throw new ValidationError(field, `"${text}" is not a whole number of milliseconds`);
  if (match[1] === '-' || rounded <= 0) throw new ValidationError(field, `"${text}" must be longer than zero`);
  if (rounded > DURATION_MAX_MS) throw new ValidationError(field, `"${text}" is longer than ten years`);
  return rounded;
}

/** Formats whole milliseconds as a Go-style duration (`1h30m`, `500ms`): what {@link parseDuration} reads back. */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('') || '0s';
}
