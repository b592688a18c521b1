import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads seconds and interval-like text', () => {
    expect(parseDuration(10)).toBe(10_000);
    expect(parseDuration(0.5)).toBe(500);
    expect(parseDuration('10 seconds')).toBe(10_000);
    expect(parseDuration('11.55 seconds')).toBe(11_550);
    expect(parseDuration('1 hour 5 minutes')).toBe(3_900_000);
    expect(parseDuration('2 days 1h 30s')).toBe(2 * 86_400_000 + 3_600_000 + 30_000);
    expect(parseDuration('15')).toBe(15_000);
    expect(parseDuration('250 ms')).toBe(250);
  });

  it('refuses what is not a duration', () => {
    for (const bad of [-1, Number.NaN, '', '  ', 'soon', '10 fortnights', '1 month', 'seconds', '5 seconds later', null, true, [], {}]) {
      expect(parseDuration(bad as never)).toBeNull();
    }
  });

  it('property: any sum of known units reads back as its total', () => {
    const unit = fc.constantFrom(['seconds', 1], ['minutes', 60], ['hours', 3600], ['days', 86_400]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), unit), { minLength: 1, maxLength: 4 }), (parts) => {
        const text = parts.map(([n, [name]]) => `${n} ${String(name)}`).join(' ');
        const total = parts.reduce((sum, [n, [, factor]]) => sum + n * Number(factor), 0);
        expect(parseDuration(text)).toBe(total * 1000);
      }),
    );
  });

  it('property: text with an unknown word is refused', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{3,9}$/).filter((w) => !['second', 'seconds', 'minute', 'minutes', 'hour', 'hours', 'day', 'days', 'week', 'weeks', 'millisecond', 'milliseconds', 'msec', 'msecs', 'sec', 'secs', 'min', 'mins'].includes(w)), (word) => {
        expect(parseDuration(`3 ${word}`)).toBeNull();
      }),
    );
  });
});
