// Hand-built syntax trees for the expression tests (the parser is another part's business).
import type { Assignment, AssignmentOperator, BinaryOperator, Expr, Json, PathPart, Pos, Scope, UnaryOperator } from '../src/ast.js';
import type { Scopes } from '../src/ports.js';

export const pos: Pos = { line: 1, column: 1 };

export const lit = (value: Json): Expr => ({ kind: 'literal', value, pos });

/** `path('a.b[2].c')` → the PathPart list. */
export function path(text: string): PathPart[] {
  if (text === '') return [];
  return text.split('.').map((part) => {
    const m = /^(.+?)\[(-?\d+)\]$/.exec(part);
    return m ? { key: m[1]!, index: Number(m[2]) } : { key: part };
  });
}

/** `ref('v.a.b[1]')` → a variable node. */
export function ref(text: string): Expr {
  const [scope, ...rest] = text.split('.');
  return { kind: 'variable', scope: scope as Scope, path: path(rest.join('.')), pos };
}

export const bin = (op: BinaryOperator, left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right, pos });
export const un = (op: UnaryOperator, operand: Expr): Expr => ({ kind: 'unary', op, operand, pos });
export const call = (name: string, ...args: Expr[]): Expr => ({ kind: 'call', name, args, pos });
export const match = (subject: Expr, pattern: string, flags = ''): Expr => ({ kind: 'match', subject, pattern, flags, pos });
export const block = (code: string): Expr => ({ kind: 'block', code, pos });

/** `set('v.x', '+=', expr)` or `set('x', '=', expr)` (no scope: the map's default). */
export function set(lhs: string, op: AssignmentOperator, value: Expr): Assignment {
  const [first, ...rest] = lhs.split('.');
  const scoped = rest.length > 0 && /^[aeivot]$/.test(first!);
  return { kind: 'assign', scope: scoped ? (first as Scope) : null, path: path(scoped ? rest.join('.') : lhs), op, value, pos };
}

export const magic = (names: string[] | null): Assignment => ({ kind: 'magic', names, pos });
export const blockAssign = (code: string): Assignment => ({ kind: 'block', code, pos });

export function scopes(partial: Partial<Scopes> = {}): Scopes {
  return { a: {}, e: {}, v: {}, t: {}, i: {}, o: {}, ...partial };
}
