import { describe, expect, it } from 'vitest';
import { fieldOf } from './field-of.test-support.js';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['2m3s4ms', 123_004],
    ['3000us', 3],
    ['+10s', 10_000],
  ] as const)('reads %s as Go does', (text, ms) => {
    expect(parseDuration(text, 'spec')).toBe(ms);
  });

  it.each([
    ['zero', '0s'],
    ['negative', '-5s'],
    ['unitless', '10'],
    ['an unknown unit', '1d'],
    ['a sub-millisecond rest', '1500us'],
    ['words', 'ten seconds'],
    ['empty', ''],
    ['past ten years', '100000h'],
    ['not a string', 10],
  ])('refuses %s, naming the field', (_what, text) => {
    expect(fieldOf(() => parseDuration(text, 'debounce'))).toBe('debounce');
  });

  it('formats what it reads back', () => {
    for (const ms of [1, 500, 90_000, 5_400_000, 123_004]) expect(parseDuration(formatDuration(ms), 'x')).toBe(ms);
  });
});
