import { describe, expect, it } from 'vitest';
import { fieldOf } from './field-of.test-support.js';
import { parseJobFilters, parseJobId, parseJsonText, parseRescheduleWhen, parseWholeNumber } from './input.js';

describe('parseRescheduleWhen', () => {
  it('takes never, +N seconds and ISO 8601 with an offset', () => {
    expect(parseRescheduleWhen('never')).toBe('never');
    expect(parseRescheduleWhen('+90.5')).toBe('+90.5');
    expect(parseRescheduleWhen('2030-01-01T10:00:00+02:00')).toEqual(new Date('2030-01-01T08:00:00Z'));
  });

  it.each(['1', '2030-01-01', '2030-01-01T00:00:00', 'tomorrow', '+', '+-1', '+1e3', '+999999999999', '0000-01-01T00:00:00Z', '', null, 5])('refuses %j, naming the field', (when) => {
    expect(fieldOf(() => parseRescheduleWhen(when, '<when>'))).toBe('<when>');
  });

  it('refuses a Date outside years 1 to 9999', () => {
    expect(fieldOf(() => parseRescheduleWhen(new Date('+010000-01-01T00:00:00Z')))).toBe('when');
  });
});

describe('parseJsonText', () => {
  it('refuses numbers JSON cannot hold, NUL, lone surrogates and deep nesting, naming the path', () => {
    expect(fieldOf(() => parseJsonText('{"n":1e400}', '<arg>'))).toBe('<arg>.n');
    expect(fieldOf(() => parseJsonText('["\\u0000"]', 'arg'))).toBe('arg[0]');
    expect(fieldOf(() => parseJsonText('{"s":"\\ud800"}', 'arg'))).toBe('arg.s');
    expect(fieldOf(() => parseJsonText(`${'['.repeat(3000)}${']'.repeat(3000)}`, 'arg'))).toMatch(/^arg/);
    expect(fieldOf(() => parseJsonText('{', 'arg'))).toBe('arg');
    expect(JSON.stringify(parseJsonText('{"__proto__":{"a":1}}', 'arg'))).toBe('{"__proto__":{"a":1}}');
  });
});

describe('parseJobFilters', () => {
  it('names filters as the caller spelled them, refusing empty values, repeats and unknown filters', () => {
    expect(fieldOf(() => parseJobFilters({ state: ['ready', 'done'] }))).toBe('state');
    expect(fieldOf(() => parseJobFilters({ state: [''] }, (f) => `--${f}`))).toBe('--state');
    expect(fieldOf(() => parseJobFilters({ funcname: '' }))).toBe('funcname');
    expect(fieldOf(() => parseJobFilters({ funcname: ['a', 'b'] }))).toBe('funcname');
    expect(fieldOf(() => parseJobFilters({ before: 'abc' }))).toBe('before');
    expect(fieldOf(() => parseJobFilters({ limit: '1001' }))).toBe('limit');
    expect(fieldOf(() => parseJobFilters({ colour: 'red' }))).toBe('colour');
  });

  it('parses good filters into a query', () => {
    expect(parseJobFilters({ state: ['ready,failed', 'cancelled'], funcname: 'f', arg: '{"a":1}', limit: '5', before: '9' }, undefined, { limit: 50 })).toEqual({
      states: ['ready', 'failed', 'cancelled'], funcname: 'f', argContains: { a: 1 }, limit: 5, beforeId: '9',
    });
    expect(parseJobFilters({}, undefined, { limit: 50 })).toEqual({ limit: 50 });
  });
});

describe('parseJobId and parseWholeNumber', () => {
  it('refuse what PostgreSQL would', () => {
    expect(parseJobId('9223372036854775807')).toBe('9223372036854775807');
    expect(fieldOf(() => parseJobId('9223372036854775808', '<id>'))).toBe('<id>');
    expect(fieldOf(() => parseJobId('01'))).toBe('id');
    expect(fieldOf(() => parseWholeNumber('1e3', 'limit', 1, 1000))).toBe('limit');
    expect(parseWholeNumber('-5', 'p', -100, 100)).toBe(-5);
  });
});
