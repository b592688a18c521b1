import { describe, expect, it } from 'vitest';
import { fieldOf } from './field-of.test-support.js';
import { JSON_MAX_DEPTH, toJsonText, validateFuncname, validateNewJob, validateNewJobs } from './validate.js';

describe('validateNewJob', () => {
  it('applies defaults', () => {
    expect(validateNewJob({ funcname: 'email.send' })).toEqual({
      funcname: 'email.send',
      argJson: 'null',
      uniqkey: null,
      runAfter: null,
      priority: 0,
      coalesce: null,
      maxRetries: 15,
      timeoutMs: null,
      idempotencyKey: null,
    });
  });

  it('accepts every allowed funcname character and ISO dates with offsets', () => {
    const job = validateNewJob({ funcname: 'A-z_0.9:x', runAfter: '2030-01-01T10:00:00+02:00', priority: -100 });
    expect(job.runAfter?.toISOString()).toBe('2030-01-01T08:00:00.000Z');
  });

  it.each([
    ['a funcname with a space', { funcname: 'send email' }, 'funcname'],
    ['a 300-character funcname', { funcname: 'x'.repeat(300) }, 'funcname'],
    ['an empty funcname', { funcname: '' }, 'funcname'],
    ['a missing funcname', {}, 'funcname'],
    ['a priority out of range', { funcname: 'f', priority: 101 }, 'priority'],
    ['a fractional priority', { funcname: 'f', priority: 1.5 }, 'priority'],
    ['a run_after that is not a date', { funcname: 'f', runAfter: 'tomorrow' }, 'runAfter'],
    ['an invalid Date', { funcname: 'f', runAfter: new Date('nope') }, 'runAfter'],
    ['a bigint arg', { funcname: 'f', arg: { n: 1n } }, 'arg.n'],
    ['a function deep in arg', { funcname: 'f', arg: { list: [1, () => 1] } }, 'arg.list[1]'],
    ['NaN in arg', { funcname: 'f', arg: [Number.NaN] }, 'arg[0]'],
    ['negative max retries', { funcname: 'f', maxRetries: -1 }, 'maxRetries'],
    ['a zero timeout', { funcname: 'f', timeoutMs: 0 }, 'timeoutMs'],
    ['an unknown field', { funcname: 'f', runafter: new Date() }, 'runafter'],
    ['an empty uniqkey', { funcname: 'f', uniqkey: '' }, 'uniqkey'],
    ['a lone surrogate in uniqkey', { funcname: 'f', uniqkey: 'a\uD800' }, 'uniqkey'],
    ['a NUL in coalesce', { funcname: 'f', coalesce: 'c\u0000' }, 'coalesce'],
    ['runAfter in year 0', { funcname: 'f', runAfter: '0000-06-01T00:00:00Z' }, 'runAfter'],
    ['runAfter past 9999', { funcname: 'f', runAfter: new Date('+010000-01-01T00:00:00Z') }, 'runAfter'],
  ])('rejects %s, naming the field', (_what, input, field) => {
    expect(fieldOf(() => validateNewJob(input as never))).toBe(field);
  });

  it('prefixes fields with the job index in a batch', () => {
    expect(fieldOf(() => validateNewJobs([{ funcname: 'ok' }, { funcname: 'ok', priority: 500 }]))).toBe('jobs[1].priority');
  });
});

describe('toJsonText', () => {
  it('rejects cycles', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(fieldOf(() => toJsonText(a, 'arg'))).toBe('arg.self');
  });

  it('rejects class instances other than those with toJSON', () => {
    expect(fieldOf(() => toJsonText({ m: new Map() }, 'arg'))).toBe('arg.m');
    expect(toJsonText({ at: new Date(0) }, 'arg')).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(toJsonText([shared, shared], 'arg')).toBe('[{"x":1},{"x":1}]');
  });

  it('refuses what jsonb cannot hold, naming the field: NUL, lone surrogates, keys too', () => {
    expect(fieldOf(() => toJsonText({ a: ['ok', 'x\u0000y'] }, 'result'))).toBe('result.a[1]');
    expect(fieldOf(() => toJsonText({ s: 'a\uD800' }, 'arg'))).toBe('arg.s');
    expect(fieldOf(() => toJsonText({ s: '\uDC00b' }, 'arg'))).toBe('arg.s');
    expect(fieldOf(() => toJsonText({ ['k\u0000']: 1 }, 'arg'))).toBe('arg.k\u0000 (key)');
    expect(toJsonText({ s: 'emoji \uD83D\uDE00' }, 'arg')).toBe('{"s":"emoji \uD83D\uDE00"}');
  });

  it('refuses nesting past the limit with an error, not a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 3000; i++) deep = [deep];
    expect(fieldOf(() => toJsonText(deep, 'arg'))).toMatch(/^arg(\[0\]){512}$/);
    let ok: unknown = 1;
    for (let i = 0; i < JSON_MAX_DEPTH; i++) ok = { a: ok };
    expect(() => toJsonText(ok, 'arg')).not.toThrow();
  });
});

describe('validateFuncname', () => {
  it('names the field it was given', () => {
    expect(fieldOf(() => validateFuncname('a b', 'filter.funcname'))).toBe('filter.funcname');
    expect(validateFuncname('ok')).toBe('ok');
  });
});
