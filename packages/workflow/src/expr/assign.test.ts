import { describe, expect, it } from 'vitest';
import { bin, blockAssign, fn, lit, magic, ref, scopes, set } from '../test-support/ast-builders.js';
import type { Assignment } from '../ast.js';
import { type MapKind, type Scopes, WorkflowError } from '../ports.js';
import { createEvaluator } from './evaluator.js';
import { createSandbox } from './sandbox.js';

const evaluator = createEvaluator({ sandbox: createSandbox() });

async function failure(assignments: Assignment[], s: Scopes, kind: MapKind): Promise<WorkflowError> {
  const error = await evaluator.assign(assignments, s, kind).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowError);
  return error as WorkflowError;
}

describe('assign: map kinds and default scopes', () => {
  it('an imap writes i by default, and t', async () => {
    const s = scopes({ v: { x: 5 } });
    await evaluator.assign([set('foo', ref('v.x')), set('t.tmp', lit(1))], s, 'imap');
    expect(s.i).toEqual({ foo: 5 });
    expect(s.t).toEqual({ tmp: 1 });
  });

  it('an omap writes v by default; a wfomap writes o', async () => {
    const s = scopes({ o: { r: 'done' } });
    await evaluator.assign([set('result', ref('o.r'))], s, 'omap');
    expect(s.v).toEqual({ result: 'done' });
    await evaluator.assign([set('out', ref('v.result'))], s, 'wfomap');
    expect(s.o).toEqual({ r: 'done', out: 'done' });
  });

  it('refuses a scope the map may not write, naming it', async () => {
    const s = scopes();
    const error = await failure([set('v.x', lit(1))], s, 'imap');
    expect(error.errorClass).toBe('normal');
    expect(error.message).toBe('cannot assign to v.x in an imap (only i. or t.)');
    expect((await failure([set('a.x', lit(1))], s, 'omap')).message).toContain('a.x in an omap (only v. or t.)');
    expect((await failure([set('i.x', lit(1))], s, 'wfomap')).message).toContain('(only o. or t.)');
  });

  it('sees its own earlier assignments', async () => {
    const s = scopes();
    await evaluator.assign([set('t.a', lit(2)), set('x', bin(ref('t.a'), '*', lit(3)))], s, 'omap');
    expect(s.v.x).toBe(6);
  });
});

describe('assign: operators', () => {
  it('= .= += -= *= /=', async () => {
    const s = scopes({ v: { n: 10, s: 'a' } });
    await evaluator.assign([
      set('n', lit('5'), '+='), set('n', lit(3), '-='), set('n', lit(2), '*='), set('n', lit(4), '/='),
      set('s', lit(1), '.='), set('fresh', lit('x'), '.='), set('counter', lit(1), '+='),
    ], s, 'omap');
    expect(s.v).toEqual({ n: 6, s: 'a1', fresh: 'x', counter: 1 });
  });

  it(',= pushes onto an array, creating it; list() pushes every element', async () => {
    const s = scopes({ v: { arr: [1] } });
    await evaluator.assign([
      set('arr', lit(2), ',='), set('arr', lit([3]), ',='), set('made', lit('x'), ',='),
      set('all', fn('list', lit([7, 8])), ',='),
    ], s, 'omap');
    expect(s.v).toEqual({ arr: [1, 2, [3]], made: ['x'], all: [7, 8] });
    expect((await failure([set('n', lit(1), ',=')], scopes({ v: { n: 'str' } }), 'omap')).message).toBe(',= needs an array at v.n, found a string');
  });

  it('//= assigns only when undefined; ||= only when false; neither evaluates its right side otherwise', async () => {
    const s = scopes({ v: { zero: 0, set: 'kept', empty: '' } });
    const boom = fn('no_such_function');
    await evaluator.assign([
      set('zero', boom, '//='), set('missing', lit('d'), '//='),
      set('set', boom, '||='), set('empty', lit('filled'), '||='), set('zero', lit(9), '||='),
    ], s, 'omap');
    expect(s.v).toEqual({ zero: 9, set: 'kept', empty: 'filled', missing: 'd' });
  });

  it('x = ifdef(y) does not assign when y is undefined', async () => {
    const s = scopes({ v: { have: 1 }, i: {} });
    await evaluator.assign([set('a', fn('ifdef', ref('v.have'))), set('b', fn('ifdef', ref('v.none')))], s, 'imap');
    expect(s.i).toEqual({ a: 1 });
    expect('b' in s.i).toBe(false);
  });

  it('/= by zero is a normal error with "division by zero"', async () => {
    const error = await failure([set('n', lit(0), '/=')], scopes({ v: { n: 1 } }), 'omap');
    expect(error.errorClass).toBe('normal');
    expect(error.message).toContain('division by zero');
  });
});

describe('assign: paths', () => {
  it('creates intermediate objects and arrays, padding arrays with null', async () => {
    const s = scopes();
    await evaluator.assign([set('v.a.b.c', lit(1)), set('list[2].name', lit('x')), set('v.a.arr[1]', lit(true))], s, 'omap');
    expect(s.v).toEqual({ a: { b: { c: 1 }, arr: [null, true] }, list: [null, null, { name: 'x' }] });
  });

  it('writes a key named __proto__ as a key', async () => {
    const s = scopes();
    await evaluator.assign([set('__proto__.polluted', lit(1))], s, 'omap');
    expect(Object.keys(s.v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses to step through the wrong kind of value, naming the path', async () => {
    const s = scopes({ v: { str: 'x', obj: {} } });
    expect((await failure([set('str.k', lit(1))], s, 'omap')).message).toBe('v.str is a string, not an object');
    expect((await failure([set('obj[0]', lit(1))], s, 'omap')).message).toBe('v.obj is an object, not an array');
  });

  it('stores copies: a later change through one path does not show through another', async () => {
    const s = scopes({ v: { src: { n: 1 } } });
    await evaluator.assign([set('copy', ref('v.src')), set('copy.n', lit(2))], s, 'omap');
    expect(s.v).toEqual({ src: { n: 1 }, copy: { n: 2 } });
  });
});

describe('assign: magic and blocks', () => {
  it('<a, b> copies names from the source scope per map kind', async () => {
    const s = scopes({ v: { a: 1, b: [2] }, o: { c: 3 } });
    await evaluator.assign([magic(['a', 'b', 'none'])], s, 'imap');
    expect(s.i).toEqual({ a: 1, b: [2], none: null });
    await evaluator.assign([magic(['c'])], s, 'omap');
    expect(s.v.c).toBe(3);
    await evaluator.assign([magic(['a'])], s, 'wfomap');
    expect(s.o).toEqual({ c: 3, a: 1 });
  });

  it('<*> replaces the target with a copy of the source (JobCenter: %i = %v)', async () => {
    const s = scopes({ v: { a: 1 }, i: { earlier: true } });
    await evaluator.assign([magic(null)], s, 'imap');
    expect(s.i).toEqual({ a: 1 });
    (s.i.a as unknown) = 2;
    expect(s.v.a).toBe(1);
  });

  it('a block changes the writable scopes; other scopes\' changes are dropped', async () => {
    const s = scopes({ a: { n: 2 }, v: { keep: 1 } });
    await evaluator.assign([blockAssign('v.doubled = a.n * 2; t.note = "x"; a.n = 100; i.sneaky = 1')], s, 'omap');
    expect(s.v).toEqual({ keep: 1, doubled: 4 });
    expect(s.t).toEqual({ note: 'x' });
    expect(s.a).toEqual({ n: 2 });
    expect(s.i).toEqual({});
  });

  it('a block may replace a writable scope with another object, not with a non-object', async () => {
    const s = scopes({ i: { old: 1 } });
    await evaluator.assign([blockAssign('i = { fresh: [1, 2] }')], s, 'imap');
    expect(s.i).toEqual({ fresh: [1, 2] });
    expect((await failure([blockAssign('i = 5')], s, 'imap')).message).toContain('i must stay an object');
  });
});

describe('assign: all or nothing', () => {
  it('leaves every scope unchanged when a later assignment fails', async () => {
    const s = scopes({ v: { n: 1 }, t: { t0: 0 } });
    const before = structuredClone(s);
    const vRef = s.v;
    await failure([set('n', lit(2)), set('t.x', lit(1)), set('bad', bin(lit(1), '/', lit(0)))], s, 'omap');
    expect(s).toEqual(before);
    expect(s.v).toBe(vRef);
  });

  it('updates the scope objects in place on success', async () => {
    const s = scopes({ v: { n: 1 } });
    const vRef = s.v;
    await evaluator.assign([set('n', lit(1), '+=')], s, 'omap');
    expect(vRef).toEqual({ n: 2 });
  });
});
