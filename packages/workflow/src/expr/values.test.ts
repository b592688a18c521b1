import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareText, formatNumber, toNumber } from './values.js';

describe('formatNumber: numbers as Perl prints them (%.15g, integers exactly)', () => {
  it.each<[number, string]>([
    [0.1 + 0.2, '0.3'], [1 / 3, '0.333333333333333'], [1e-5, '1e-05'], [0.0001, '0.0001'],
    [1.5, '1.5'], [-2.5e-10, '-2.5e-10'], [1e100, '1e+100'], [123456789012345680000, '1.23456789012346e+20'],
    [42, '42'], [-0, '0'], [9007199254740991, '9007199254740991'], [2 ** 53 + 2, '9.00719925474099e+15'],
    [100.25, '100.25'], [1234567.125, '1234567.125'],
  ])('%d prints as %s', (n, text) => {
    expect(formatNumber(n)).toBe(text);
  });

  // Below 1e300: like Perl's, the 15-digit form of the largest doubles rounds up past the maximum.
  it('property: the printed number reads back within 15 significant digits', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, min: -1e300, max: 1e300 }), (n) => {
      const back = Number(formatNumber(n));
      expect(Math.abs(back - n)).toBeLessThanOrEqual(Math.abs(n) * 1e-14);
    }));
  });
});

describe('toNumber and compareText', () => {
  it('property: a number printed by JavaScript reads back as itself', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
      expect(toNumber(String(n), 'x')).toBe(n === 0 ? 0 : n);
    }));
  });

  it('property: compareText orders like comparing code point arrays', () => {
    // Characters chosen where UTF-16 order and code point order disagree (astral vs. U+FFFF).
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '\uFFFF', '\u{1F600}', '\u{10000}', '\uE000'), maxLength: 6 });
    fc.assert(fc.property(text, text, (a, b) => {
      const x = Array.from(a, (c) => c.codePointAt(0)!);
      const y = Array.from(b, (c) => c.codePointAt(0)!);
      let expected = 0;
      for (let k = 0; k < Math.max(x.length, y.length) && expected === 0; k += 1) {
        expected = (x[k] ?? -1) === (y[k] ?? -1) ? 0 : (x[k] ?? -1) < (y[k] ?? -1) ? -1 : 1;
      }
      expect(compareText(a, b)).toBe(expected);
    }));
  });
});
