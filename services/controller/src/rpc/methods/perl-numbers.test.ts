import { describe, expect, it } from 'vitest';
import { numberParam } from './perl-numbers.js';

describe('numberParam', () => {
  it('takes JSON numbers and the decimal strings Perl sends for numbers read from text', () => {
    expect(numberParam(30)).toBe(30);
    expect(numberParam(0.5)).toBe(0.5);
    expect(numberParam('30')).toBe(30);
    expect(numberParam('0.5')).toBe(0.5);
    expect(numberParam('007')).toBe(7);
  });

  it('gives NaN for anything else, so the range check refuses it', () => {
    for (const bad of ['', ' 30', '30 ', '-1', '+1', '1e3', '0x10', '.5', '5.', 'NaN', 'Infinity', true, null, [], {}]) {
      expect(numberParam(bad), JSON.stringify(bad)).toBeNaN();
    }
  });
});
