import { describe, expect, it } from 'vitest';
import { bin, block, fn, lit, match, ref, scopes, un } from '../test-support/ast-builders.js';
import type { Expr, Json } from '../ast.js';
import { WorkflowError } from '../ports.js';
import { createEvaluator } from './evaluator.js';
import { createSandbox } from './sandbox.js';

const evaluator = createEvaluator({ sandbox: createSandbox() });
const s = scopes({
  a: { n: '10', name: 'ada', list: [1, 2, 3], nested: { deep: [{ x: 'found' }] }, zero: 0, text: 'abc' },
  v: { count: 2, flag: false, empty: '', nothing: null, obj: { k: 1 } },
});
const ev = (expr: Expr): Promise<Json> => evaluator.evaluate(expr, s);

async function failure(expr: Expr): Promise<WorkflowError> {
  const error = await ev(expr).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowError);
  return error as WorkflowError;
}

describe('evaluate: values and variables', () => {
  it('reads literals and variables along paths and indexes', async () => {
    expect(await ev(lit({ x: [1] }))).toEqual({ x: [1] });
    expect(await ev(ref('a.name'))).toBe('ada');
    expect(await ev(ref('a.list[1]'))).toBe(2);
    expect(await ev(ref('a.list[-1]'))).toBe(3);
    expect(await ev(ref('a.nested.deep[0].x'))).toBe('found');
  });

  it('gives null (undef) for anything missing', async () => {
    expect(await ev(ref('a.missing'))).toBeNull();
    expect(await ev(ref('a.missing.deeper[3].x'))).toBeNull();
    expect(await ev(ref('a.list[7]'))).toBeNull();
    expect(await ev(ref('v.nothing.x'))).toBeNull();
    expect(await ev(ref('a.constructor'))).toBeNull();
    expect(await ev(ref('a.__proto__'))).toBeNull();
  });

  it('names the path when a step meets the wrong kind of value', async () => {
    expect((await failure(ref('a.name.first'))).message).toBe('a.name is a string, not an object');
    expect((await failure(ref('v.obj[0]'))).message).toBe('v.obj is an object, not an array');
  });

  it('returns copies: changing a result does not change the scope', async () => {
    const got = (await ev(ref('a.list'))) as number[];
    got.push(4);
    expect(s.a.list).toEqual([1, 2, 3]);
  });
});

describe('evaluate: operators with Perl semantics', () => {
  const cases: [string, Expr, Json][] = [
    ['"10" + 1', bin(ref('a.n'), '+', lit(1)), 11],
    ['undef + 1', bin(ref('v.nothing'), '+', lit(1)), 1],
    ['true + 1', bin(lit(true), '+', lit(1)), 2],
    ['" 2.5e1 " * 2', bin(lit(' 2.5e1 '), '*', lit(2)), 50],
    ['7 / 2', bin(lit(7), '/', lit(2)), 3.5],
    ['2 ** 10', bin(lit(2), '**', lit(10)), 1024],
    ['-7 % 3', bin(lit(-7), '%', lit(3)), 2],
    ['7 % -3', bin(lit(7), '%', lit(-3)), -2],
    ['7.9 % 3', bin(lit(7.9), '%', lit(3)), 1],
    ['"a" . 1.5', bin(lit('a'), '.', lit(1.5)), 'a1.5'],
    ['0.1 + 0.2 . ""', bin(bin(lit(0.1), '+', lit(0.2)), '.', lit('')), '0.3'],
    ['undef . "x"', bin(ref('v.nothing'), '.', lit('x')), 'x'],
    ['true . false', bin(lit(true), '.', lit(false)), '10'],
    ['"ab" x 3', bin(lit('ab'), 'x', lit(3)), 'ababab'],
    ['"ab" x -1', bin(lit('ab'), 'x', lit(-1)), ''],
    ['"10" == 10.0', bin(lit('10'), '==', lit(10.0)), true],
    ['"10" eq "10.0"', bin(lit('10'), 'eq', lit('10.0')), false],
    ['10 < 9 (numeric)', bin(lit(10), '<', lit(9)), false],
    ['"10" lt "9" (string)', bin(lit('10'), 'lt', lit('9')), true],
    ['"b" ge "a"', bin(lit('b'), 'ge', lit('a')), true],
    ['"a" ne "b"', bin(lit('a'), 'ne', lit('b')), true],
    ['1 != 1', bin(lit(1), '!=', lit(1)), false],
    ['"\u{1F600}" gt "\uFFFF" (code points)', bin(lit('\u{1F600}'), 'gt', lit('\uFFFF')), true],
    ['0 || "x"', bin(lit(0), '||', lit('x')), 'x'],
    ['"0.0" || "x"', bin(lit('0.0'), '||', lit('x')), '0.0'],
    ['"a" && "b"', bin(lit('a'), '&&', lit('b')), 'b'],
    ['"" and "b"', bin(lit(''), 'and', lit('b')), ''],
    ['undef or 5', bin(lit(null), 'or', lit(5)), 5],
    ['0 // 5 (defined-or)', bin(lit(0), '//', lit(5)), 0],
    ['undef // 5', bin(ref('v.nothing'), '//', lit(5)), 5],
    ['1 xor 0', bin(lit(1), 'xor', lit(0)), true],
    ['"a" xor "b"', bin(lit('a'), 'xor', lit('b')), false],
    ['!""', un('!', lit('')), true],
    ['not []', un('not', lit([])), false],
    ['-"3"', un('-', lit('3')), -3],
    ['+"3" stays a string', un('+', lit('3')), '3'],
  ];
  it.each(cases)('%s', async (_name, expr, expected) => {
    expect(await ev(expr)).toEqual(expected);
  });

  it('short-circuits: the right side of && || // is not evaluated when the left decides', async () => {
    const boom = fn('no_such_function');
    expect(await ev(bin(lit(1), '||', boom))).toBe(1);
    expect(await ev(bin(lit(0), '&&', boom))).toBe(0);
    expect(await ev(bin(lit(''), '//', boom))).toBe('');
    await failure(bin(lit(0), '||', boom));
  });

  it('raises normal errors for division by zero, naming it', async () => {
    for (const expr of [bin(lit(1), '/', lit(0)), bin(lit(1), '/', ref('v.nothing')), bin(lit(5), '%', lit('0'))]) {
      const error = await failure(expr);
      expect(error.errorClass).toBe('normal');
      expect(error.message).toContain('division by zero');
    }
  });

  it('raises a normal error naming the operand for a non-numeric string in arithmetic', async () => {
    const error = await failure(bin(lit(1), '+', ref('a.name')));
    expect(error.errorClass).toBe('normal');
    expect(error.message).toBe('the right operand of + is not a number: "ada"');
    expect((await failure(bin(lit(''), '<', lit(1)))).message).toContain('left operand of <');
    expect((await failure(bin(lit([1]), '*', lit(1)))).message).toContain('is an array, not a number');
  });

  it('refuses arrays and objects as strings and non-finite results', async () => {
    expect((await failure(bin(lit('x'), '.', ref('v.obj')))).message).toContain('use encode_json');
    expect((await failure(bin(lit(10), '**', lit(400)))).message).toContain('not a finite number');
    expect((await failure(bin(lit('ab'), 'x', lit(1e12)))).message).toContain('string too long');
  });
});

describe('evaluate: =~ with JavaScript regular expressions', () => {
  it('matches, with flags, in JavaScript syntax', async () => {
    expect(await ev(match(ref('a.name'), '^a.a$'))).toBe(true);
    expect(await ev(match(lit('ADA'), '^ada$'))).toBe(false);
    expect(await ev(match(lit('ADA'), '^ada$', 'i'))).toBe(true);
    expect(await ev(match(lit(42), '^\\d+$'))).toBe(true);
    expect(await ev(match(lit('x'), '(?<name>x)'))).toBe(true);
  });

  it('reports a bad pattern as a normal error naming the pattern', async () => {
    const error = await failure(match(lit('x'), '(unclosed'));
    expect(error.errorClass).toBe('normal');
    expect(error.message).toContain('=~ /(unclosed/');
  });

  it('stops a catastrophically backtracking pattern at the time limit', async () => {
    const quick = createEvaluator({ sandbox: createSandbox({ timeLimitMs: 200 }) });
    const expr = match(lit(`${'a'.repeat(40)}!`), '^(a+)+$');
    const error = await quick.evaluate(expr, s).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowError);
    expect((error as WorkflowError).errorClass).toBe('fatal');
  });
});

describe('evaluate: built-in functions', () => {
  const cases: [string, Expr, Json][] = [
    ['concat', fn('concat', lit('a'), lit(1), lit(null), lit(true)), 'a11'],
    ['defined', fn('defined', ref('v.nothing')), false],
    ['defined 0', fn('defined', ref('a.zero')), true],
    ['ifdef', fn('ifdef', ref('a.name')), 'ada'],
    ['tostring', fn('tostring', lit(1e21)), '1e+21'],
    ['tostring small', fn('tostring', lit(0.000012345)), '1.2345e-05'],
    ['tonumber', fn('tonumber', lit(' 42 ')), 42],
    ['array', fn('array', lit(1), ref('a.name')), [1, 'ada']],
    ['array with list', fn('array', lit(0), fn('list', ref('a.list')), lit(4)), [0, 1, 2, 3, 4]],
    ['object', fn('object', lit('k'), lit(1), lit(2), lit('two')), { k: 1, '2': 'two' }],
    ['object with list', fn('object', fn('list', lit({ b: 2, a: 1 }))), { a: 1, b: 2 }],
    ['encode_json (canonical)', fn('encode_json', lit({ b: [1, 0.5], a: 'x' })), '{"a":"x","b":[1,0.5]}'],
    ['to_json alias', fn('to_json', lit([true, null])), '[true,null]'],
    ['decode_json', fn('decode_json', lit('{"a":[1,2]}')), { a: [1, 2] }],
    ['fromjson alias', fn('fromjson', lit('"s"')), 's'],
    ['encode_base64', fn('encode_base64', lit('héllo')), 'aMOpbGxv'],
    ['decode_base64', fn('b64decode', lit('aMOpbGxv')), 'héllo'],
    ['md5_hex', fn('md5_hex', lit('abc')), '900150983cd24fb0d6963f7d28e17f72'],
    ['md5_base64 (no padding)', fn('md5b64', lit('abc')), 'kAFQmDzST7DWlj99KOF/cg'],
    ['keys (sorted)', fn('keys', lit({ b: 1, a: 2 })), ['a', 'b']],
    ['values (by sorted key)', fn('values', lit({ b: 1, a: 2 })), [2, 1]],
  ];
  it.each(cases)('%s', async (_name, expr, expected) => {
    expect(await ev(expr)).toEqual(expected);
  });

  it('names an unknown function', async () => {
    const error = await failure(fn('frobnicate', lit(1)));
    expect(error.errorClass).toBe('normal');
    expect(error.message).toBe('unknown function frobnicate');
  });

  it('checks arguments', async () => {
    expect((await failure(fn('keys', lit([1])))).message).toContain('keys(): not an object');
    expect((await failure(fn('object', lit('k')))).message).toContain('key and value pairs');
    expect((await failure(fn('tostring', lit(1), lit(2)))).message).toContain('takes one argument');
    expect((await failure(fn('decode_json', lit('{nope')))).message).toContain('decode_json: not JSON');
    expect((await failure(fn('decode_base64', lit('//79')))).message).toContain('not UTF-8');
    expect((await failure(fn('list', ref('a.list')))).message).toContain('list() spreads only');
    expect((await failure(fn('array', fn('list', lit('s'))))).message).toContain('not an array or object');
    expect((await failure(fn('tonumber', lit('12abc')))).message).toContain('not a number');
  });
});

describe('evaluate: inline blocks', () => {
  it('gives the block\'s completion value, with the scopes as globals', async () => {
    expect(await ev(block('a.list.map((x) => x * 2)'))).toEqual([2, 4, 6]);
    expect(await ev(block('v.count + Number(a.n)'))).toBe(12);
  });

  it('drops what an expression block changes in the scopes', async () => {
    const local = scopes({ v: { x: 1 } });
    expect(await evaluator.evaluate(block('v.x = 99; v.y = 1; v.x'), local)).toBe(99);
    expect(local.v).toEqual({ x: 1 });
  });

  it('carries the block\'s position and error', async () => {
    const error = await failure({ kind: 'block', code: 'throw new Error("nope")', pos: { line: 7, column: 3 } });
    expect(error.pos).toEqual({ line: 7, column: 3 });
    expect(error.message).toContain('nope');
  });
});

describe('truthy: Perl truth', () => {
  it.each<[Json, boolean]>([
    [null, false], [false, false], [0, false], ['', false], ['0', false],
    [true, true], [1, true], [-0.5, true], ['0.0', true], ['00', true], [' ', true], ['false', true],
    [[], true], [{}, true], [[0], true],
  ])('%j is %s', (value, expected) => {
    expect(evaluator.truthy(value)).toBe(expected);
  });
});
