// Property tests: the evaluator against a reference for arithmetic and concatenation, and random
// (mostly nonsensical) syntax trees and assignment lists, which must only ever fail with a
// WorkflowError, and, for assignment lists, fail without changing any scope.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bin, lit, scopes } from '../test-support/ast-builders.js';
import type { Assignment, AssignmentOperator, BinaryOperator, Expr, Json, PathPart, Scope, UnaryOperator } from '../ast.js';
import { type MapKind, type Scopes, WorkflowError } from '../ports.js';
import { createEvaluator } from './evaluator.js';
import { createSandbox } from './sandbox.js';
import { formatNumber } from './values.js';

const evaluator = createEvaluator({ sandbox: createSandbox({ timeLimitMs: 200 }) });
const pos = { line: 1, column: 1 };

const BINARY: BinaryOperator[] = ['**', '*', '/', '//', '%', '+', '-', '.', 'x', '<', '<=', '>', '>=', '==', '!=', 'lt', 'le', 'gt', 'ge', 'eq', 'ne', '&&', '||', 'and', 'or', 'xor'];
const UNARY: UnaryOperator[] = ['!', '-', '+', 'not'];
const SCOPES: Scope[] = ['a', 'e', 'v', 't', 'i', 'o'];
const FUNCTIONS = ['concat', 'defined', 'ifdef', 'tostring', 'tonumber', 'array', 'object', 'encode_json', 'decode_json',
  'encode_base64', 'decode_base64', 'md5_hex', 'md5_base64', 'list', 'keys', 'values', 'b64decode', 'nope'];
const ASSIGN_OPS: AssignmentOperator[] = ['=', '.=', ',=', '+=', '-=', '*=', '/=', '//=', '||='];

const key = fc.constantFrom('x', 'y', 'list', 'obj', 's', 'n', '__proto__', 'constructor');
const pathArb: fc.Arbitrary<PathPart[]> = fc.array(
  fc.record({ key, index: fc.option(fc.integer({ min: -3, max: 5 }), { nil: undefined }) }, { requiredKeys: ['key'] })
    .map((p) => (p.index === undefined ? { key: p.key } : { key: p.key, index: p.index })),
  { minLength: 1, maxLength: 3 },
);
const jsonArb = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, 1, -1, 0.5, '', '0', '10', ' 3 ', 'abc', '1e400', [], {}, [1, 'a'], { x: 1 }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonArb.map((value): Expr => ({ kind: 'literal', value, pos })),
    fc.record({ scope: fc.constantFrom(...SCOPES), path: pathArb }).map(({ scope, path }): Expr => ({ kind: 'variable', scope, path, pos })),
    fc.record({ op: fc.constantFrom(...UNARY), operand: tie('expr') }).map(({ op, operand }): Expr => ({ kind: 'unary', op, operand, pos })),
    fc.record({ op: fc.constantFrom(...BINARY), left: tie('expr'), right: tie('expr') }).map(({ op, left, right }): Expr => ({ kind: 'binary', op, left, right, pos })),
    fc.record({ name: fc.constantFrom(...FUNCTIONS), args: fc.array(tie('expr'), { maxLength: 3 }) }).map(({ name, args }): Expr => ({ kind: 'call', name, args, pos })),
  ),
}));

// Matches and blocks cost a sandbox run each: a separate, smaller arbitrary mixes a few in.
const sandboxed: fc.Arbitrary<Expr> = fc.oneof(
  fc.record({ subject: expr, pattern: fc.constantFrom('a', '^\\d+$', '(', '[', '(?<n>x)', 'a{2,1}'), flags: fc.constantFrom('', 'i', 'gu', 'zz') })
    .map(({ subject, pattern, flags }): Expr => ({ kind: 'match', subject, pattern, flags, pos })),
  fc.constantFrom('v.x', 'a.list.length', 'throw 1', 'undefined', '}{', 'v.x = 1').map((code): Expr => ({ kind: 'block', code, pos })),
);

const world = (): Scopes => scopes({
  a: { x: 1, list: [1, 2, 3], s: 'abc', obj: { x: 'y' } },
  e: { n: '5' },
  v: { x: 'str', list: [null, { x: 1 }], n: 0, obj: {} },
  t: {},
  i: { list: 'not a list' },
  o: { obj: { list: [] } },
});

async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
    return null;
  } catch (error) {
    return error;
  }
}

describe('evaluator properties', () => {
  it('+ - * agree with JavaScript on numbers and numeric strings', async () => {
    const num = fc.double({ noNaN: true, min: -1e12, max: 1e12 });
    await fc.assert(fc.asyncProperty(num, num, fc.constantFrom<BinaryOperator>('+', '-', '*'), fc.boolean(), async (a, b, op, asText) => {
      const left = asText ? lit(String(a)) : lit(a);
      const expected = (op === '+' ? a + b : op === '-' ? a - b : a * b) + 0; // no -0 in JSON
      expect(await evaluator.evaluate(bin(left, op, lit(b)), world())).toBe(expected);
    }));
  });

  it('. agrees with string concatenation of Perl-printed values', async () => {
    const operand = fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
    const text = (v: string | number | boolean | null): string =>
      v === null ? '' : typeof v === 'boolean' ? (v ? '1' : '0') : typeof v === 'number' ? formatNumber(v) : v;
    await fc.assert(fc.asyncProperty(operand, operand, async (a, b) => {
      expect(await evaluator.evaluate(bin(lit(a), '.', lit(b)), world())).toBe(text(a) + text(b));
    }));
  });

  it('random expression trees give JSON or a WorkflowError, never anything else, and change no scope', async () => {
    await fc.assert(fc.asyncProperty(expr, async (tree) => {
      const s = world();
      const before = structuredClone(s);
      let value: unknown;
      const error = await outcome(async () => { value = await evaluator.evaluate(tree, s); });
      if (error !== null) expect(error).toBeInstanceOf(WorkflowError);
      else expect(JSON.parse(JSON.stringify(value))).toEqual(value);
      expect(s).toEqual(before);
    }), { numRuns: 1000 });
  });

  it('random matches and blocks give JSON or a WorkflowError', async () => {
    await fc.assert(fc.asyncProperty(sandboxed, async (tree) => {
      const error = await outcome(() => evaluator.evaluate(tree, world()));
      if (error !== null) expect(error).toBeInstanceOf(WorkflowError);
    }), { numRuns: 60 });
  });

  it('random assignment lists succeed or fail with a WorkflowError that leaves every scope unchanged', async () => {
    const assignment: fc.Arbitrary<Assignment> = fc.oneof(
      fc.record({
        scope: fc.option(fc.constantFrom(...SCOPES), { nil: null }),
        path: fc.oneof(pathArb, fc.constant([])),
        op: fc.constantFrom(...ASSIGN_OPS),
        value: expr,
      }).map(({ scope, path, op, value }): Assignment => ({ kind: 'assign', scope, path, op, value, pos })),
      fc.option(fc.array(key, { maxLength: 3 }), { nil: null }).map((names): Assignment => ({ kind: 'magic', names, pos })),
    );
    await fc.assert(fc.asyncProperty(fc.array(assignment, { maxLength: 5 }), fc.constantFrom<MapKind>('imap', 'omap', 'wfomap'), async (list, kind) => {
      const s = world();
      const before = structuredClone(s);
      const error = await outcome(() => evaluator.assign(list, s, kind));
      if (error !== null) {
        expect(error).toBeInstanceOf(WorkflowError);
        expect(s).toEqual(before);
      }
      expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    }), { numRuns: 1000 });
  });
});
