import { describe, expect, it } from 'vitest';
import type { Expr } from '../ast.js';
import { body, noPos } from '../../test/jcl-test-support.js';
import { parseJcl } from './parse-jcl.js';

/** The right side of `x = <source>` in an eval. */
function expr(source: string): Expr {
  const [s] = body('eval:', `>x = ${source}`);
  if (s?.kind !== 'eval' || s.assignments[0]?.kind !== 'assign') throw new Error('not an assignment');
  return s.assignments[0].value;
}

/** An expression in fully parenthesised prefix form, so precedence reads at a glance. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'literal': return JSON.stringify(e.value);
    case 'variable': return `${e.scope}.${e.path.map((p) => p.key + (p.index === undefined ? '' : `[${p.index}]`)).join('.')}`;
    case 'unary': return `(${e.op} ${show(e.operand)})`;
    case 'binary': return `(${e.op} ${show(e.left)} ${show(e.right)})`;
    case 'match': return `(=~ ${show(e.subject)} /${e.pattern}/${e.flags})`;
    case 'call': return `${e.name}(${e.args.map(show).join(', ')})`;
    case 'block': return `[[${e.code}]]`;
  }
}

describe('JCL expressions', () => {
  it.each([
    // ** binds tighter than unary minus on its left, is right-associative, takes a unary on its right.
    ['-2 ** 2', '(- (** 2 2))'],
    ['2 ** 3 ** 2', '(** 2 (** 3 2))'],
    ['2 ** -1', '(** 2 (- 1))'],
    ['!a.x =~ /y/', '(=~ (! a.x) /y/)'],
    ['a.x * 2 =~ /1/i', '(* a.x (=~ 2 /1/i))'],
    ['1 + 2 * 3', '(+ 1 (* 2 3))'],
    ['1 - 2 - 3', '(- (- 1 2) 3)'],
    ["'a' x 2 . 'b'", '(. (x "a" 2) "b")'],
    ['10 // 3 % 2', '(// 10 (% 3 2))'],
    ['a.x // 1 || 2', '(|| (// a.x 1) 2)'],
    ['1 + 2 < 3 . 4', '(< (+ 1 2) (. 3 4))'],
    ['1 < 2 == 3 > 4', '(== (< 1 2) (> 3 4))'],
    ['a.x lt a.y eq a.z ge 1', '(eq (lt a.x a.y) (ge a.z 1))'],
    ['1 == 2 && 3 != 4 || 5', '(|| (&& (== 1 2) (!= 3 4)) 5)'],
    ['not 1 == 2 && 3', '(not (&& (== 1 2) 3))'],
    ['not a.x and not a.y', '(and (not a.x) (not a.y))'],
    ['1 or 2 and 3 xor 4', '(xor (or 1 (and 2 3)) 4)'],
    ['!!a.x', '(! (! a.x))'],
    ['+a.x - -1', '(- (+ a.x) (- 1))'],
    ['(1 + 2) * 3', '(* (+ 1 2) 3)'],
    ['v.a . v.b.c[2] . v.d.\'e f\'[-1]', '(. (. v.a v.b.c[2]) v.d.e f[-1])'],
    ['concat(1, 2 + 3: "x")', 'concat(1, (+ 2 3), "x")'],
    ['now()', 'now()'],
    ['[[ $a{b} ]] . [x[ ]] ]x]', '(. [[ $a{b} ]] [[ ]] ]])'],
  ])('%s parses as %s', (source, expected) => {
    expect(show(expr(source))).toBe(expected);
  });

  it.each([
    ['42', 42], ['3.25', 3.25], ['.5', 0.5], ['0x1F', 31], ['0XfF', 255],
    ['true', true], ['TRUE', true], ['false', false], ['FALSE', false], ['null', null], ['NULL', null],
    ["'it\\'s \\\\ \\n'", "it's \\ \\n"],
    ['"say \\"hi\\"\\t\\n\\0\\\\"', 'say "hi"\t\n\0\\'],
    ["'schlüssel'", 'schlüssel'],
  ])('literal %s', (source, value) => {
    expect(noPos(expr(source))).toEqual({ kind: 'literal', value });
  });

  it('keeps a regex pattern as written and its flags', () => {
    expect(noPos(expr('v.s ~ /^a\\/b$/'))).toEqual({
      kind: 'match', subject: { kind: 'variable', scope: 'v', path: [{ key: 's' }] }, pattern: '^a\\/b$', flags: '',
    });
  });

  it('gives each node the position where it starts', () => {
    const e = expr('1 + f(a.b)');
    expect(e).toMatchObject({
      pos: { line: 4, column: 7 },
      right: { kind: 'call', pos: { line: 4, column: 11 }, args: [{ pos: { line: 4, column: 13 } }] },
    });
  });

  it('rejects a variable without a scope and an unknown scope', () => {
    expect(() => expr('foo + 1')).toThrow("w.wf:4:10: expected '(' after a function name (a variable needs its scope: a., e., v., t., i. or o.), found a blank");
    expect(() => expr('x.y')).toThrow("w.wf:4:8: expected '(' after a function name (a variable needs its scope: a., e., v., t., i. or o.), found \".\"");
    expect(() => parseJcl('workflow w:\ndo:\n\teval:\n\t\tq.y = 1\n', 'w.wf')).toThrow('w.wf:4:3: unknown scope q.');
  });
});
