import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Json } from '../ast.js';
import { WorkflowError } from '../ports.js';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each<[Json, number]>([
    [10, 10_000], [0.25, 250], [0, 0], ['10', 10_000],
    ['10 seconds', 10_000], ['1 second', 1000], ['10s', 10_000], ['500 ms', 500],
    ['1 hour 5 minutes', 3_900_000], ['11.55 seconds', 11_550], ['2 days', 172_800_000],
    ['1 week', 604_800_000], ['1 mon', 2_592_000_000], ['1 year', 31_557_600_000],
    ['00:01:30', 90_000], ['01:30', 5_400_000], ['00:00:01.5', 1500], ['1 day 02:00:00', 93_600_000],
    ['  @ 3 Hours  ', 10_800_000], ['5min 3s', 303_000],
  ])('%j is %d ms', (value, ms) => {
    expect(parseDuration(value)).toBe(ms);
  });

  it.each<Json>(['', 'soon', '10 parsecs', '-5 seconds', -1, '1:2:3:4', '00:61:00', '1 hour 01:00 02:00', null, true, [], {}])(
    'refuses %j with a normal error quoting it',
    (value) => {
      let error: unknown;
      try {
        parseDuration(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(WorkflowError);
      expect((error as WorkflowError).errorClass).toBe('normal');
      expect((error as WorkflowError).message).toContain(`duration ${JSON.stringify(value)}`);
    },
  );

  it('property: any JSON value gives a non-negative whole number of ms or a WorkflowError naming the duration', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.string(), fc.stringMatching(/^[\d .:a-z@-]{0,20}$/)), (value) => {
      try {
        const ms = parseDuration(value as Json);
        expect(Number.isInteger(ms) && ms >= 0).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(WorkflowError);
        expect((error as WorkflowError).message.startsWith('duration ')).toBe(true);
      }
    }), { numRuns: 500 });
  });

  it('property: n seconds as text and as a number agree', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), (n) => {
      expect(parseDuration(`${n} seconds`)).toBe(parseDuration(n));
    }));
  });
});
