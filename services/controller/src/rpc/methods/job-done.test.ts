import { describe, expect, it } from 'vitest';
import { outargsOf, wireJobId } from './job-done.js';
import { parseWireJobId } from './calls.js';

describe('outargs', () => {
  it('sends an object result as it is and wraps anything else', () => {
    expect(outargsOf({ state: 'completed', result: { sum: 5 }, error: null })).toEqual({ sum: 5 });
    expect(outargsOf({ state: 'completed', result: null, error: null })).toEqual({});
    expect(outargsOf({ state: 'completed', result: 42, error: null })).toEqual({ result: 42 });
    expect(outargsOf({ state: 'completed', result: [1, 2], error: null })).toEqual({ result: [1, 2] });
    expect(outargsOf({ state: 'completed', result: false, error: null })).toEqual({ result: false });
  });

  it("reports failures with the last failure's message, and cancellations, as JobCenter's error", () => {
    expect(outargsOf({ state: 'failed', result: null, error: 'boom' })).toEqual({ error: 'boom' });
    expect(outargsOf({ state: 'failed', result: null, error: null })).toEqual({ error: 'failed' });
    expect(outargsOf({ state: 'failed', result: null, error: 'Error: two\nlines\n    at f (/srv/app.js:1:1)' })).toEqual({ error: 'Error: two\nlines' });
    expect(outargsOf({ state: 'cancelled', result: null, error: 'earlier failure' })).toEqual({ error: 'cancelled' });
  });
});

describe('job ids on the wire', () => {
  it('answers numbers while exact, decimal strings beyond', () => {
    expect(wireJobId('17')).toBe(17);
    expect(wireJobId('9007199254740991')).toBe(9007199254740991);
    expect(wireJobId('9007199254740993')).toBe('9007199254740993');
  });

  it('takes numbers and decimal strings, and names job_id otherwise', () => {
    expect(parseWireJobId(17)).toBe('17');
    expect(parseWireJobId('17')).toBe('17');
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 60, '017', 'x', '', null, undefined, {}]) {
      expect(() => parseWireJobId(bad)).toThrow(/^job_id: /);
    }
  });
});
