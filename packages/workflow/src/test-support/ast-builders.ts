// Test-only builders for hand-made syntax trees (the parser is written elsewhere, in parallel).
// Positions count up so that every node has a distinct line for error-message checks.
import type { Assignment, AssignmentOperator, BinaryOperator, Block, Expr, IoSpec, Json, LockSpec, Pos, Scope, Statement, WorkflowUnit } from '../ast.js';

let line = 0;
/** A fresh position (line n, column 1). */
export function at(l?: number): Pos {
  line += 1;
  return { line: l ?? line, column: 1 };
}

export const lit = (value: Json): Expr => ({ kind: 'literal', value, pos: at() });

/** `scope.a.b` from `'v.a.b'`. */
export function ref(dotted: string): Expr {
  const [scope, ...keys] = dotted.split('.');
  return { kind: 'variable', scope: scope as Scope, path: keys.map((key) => ({ key })), pos: at() };
}

export const bin = (left: Expr, op: BinaryOperator, right: Expr): Expr => ({ kind: 'binary', op, left, right, pos: at() });
export const not = (operand: Expr): Expr => ({ kind: 'unary', op: 'not', operand, pos: at() });

/** `lhs op rhs`; `lhs` as `'v.x'`, or `'x'` for the map's default scope. */
export function set(lhs: string, value: Expr | Json, op: AssignmentOperator = '='): Assignment {
  const parts = lhs.split('.');
  const scoped = parts.length > 1 && ['a', 'e', 'v', 't', 'i', 'o'].includes(parts[0] ?? '');
  const keys = scoped ? parts.slice(1) : parts;
  const expr = isExpr(value) ? value : lit(value);
  return { kind: 'assign', scope: scoped ? (parts[0] as Scope) : null, path: keys.map((key) => ({ key })), op, value: expr, pos: at() };
}

function isExpr(value: unknown): value is Expr {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'kind' in value && 'pos' in value;
}

export const magic = (names: string[] | null = null): Assignment => ({ kind: 'magic', names, pos: at() });

// Statements -----------------------------------------------------------------------------------

export const evalS = (...assignments: Assignment[]): Statement => ({ kind: 'eval', assignments, pos: at() });
export const call = (name: string, imap: Assignment[] = [], omap: Assignment[] = []): Statement => ({ kind: 'call', name, imap, omap, pos: at() });
export const callflow = (name: string, imap: Assignment[] = [], omap: Assignment[] = []) => ({ kind: 'callflow' as const, name, imap, omap, pos: at() });
export const mapS = (name: string, using: Expr, imap: Assignment[], collect: Assignment[]) => ({ kind: 'map' as const, name, using, imap, collect, pos: at() });
export const split = (...children: Extract<Statement, { kind: 'split' }>['children'][number][]): Statement => ({ kind: 'split', children, pos: at() });
export const detachflow = (name: string, imap: Assignment[] = []): Statement => ({ kind: 'detachflow', name, imap, pos: at() });
export const ifS = (condition: Expr, body: Block, otherwise: Block | null = null, elsifs: [Expr, Block][] = []): Statement => ({
  kind: 'if',
  branches: [{ condition, body, pos: at() }, ...elsifs.map(([c, b]) => ({ condition: c, body: b, pos: at() }))],
  otherwise,
  pos: at(),
});
export const caseS = (subject: Expr, whens: [string[], Block][], otherwise: Block | null = null): Statement => ({
  kind: 'case', subject, whens: whens.map(([labels, body]) => ({ labels, body, pos: at() })), otherwise, pos: at(),
});
export const whileS = (condition: Expr, body: Block): Statement => ({ kind: 'while', condition, body, pos: at() });
export const repeatS = (body: Block, until: Expr): Statement => ({ kind: 'repeat', body, until, pos: at() });
export const tryS = (body: Block, handler: Block): Statement => ({ kind: 'try', body, handler, pos: at() });
export const gotoS = (label: string, l?: number): Statement => ({ kind: 'goto', label, pos: at(l) });
export const label = (name: string, l?: number): Statement => ({ kind: 'label', label: name, pos: at(l) });
export const raiseError = (message: Expr): Statement => ({ kind: 'raise-error', message, pos: at() });
export const assertS = (condition: Expr, message: Expr): Statement => ({ kind: 'assert', condition, message, pos: at() });
export const returnS = (): Statement => ({ kind: 'return', pos: at() });
export const sleepS = (duration: Expr): Statement => ({ kind: 'sleep', duration, pos: at() });
export const waitForEvent = (assignments: Assignment[], omap: Assignment[] = []): Statement => ({ kind: 'wait-for-event', assignments, omap, pos: at() });
export const subscribe = (...assignments: Assignment[]): Statement => ({ kind: 'subscribe', assignments, pos: at() });
export const unsubscribe = (...assignments: Assignment[]): Statement => ({ kind: 'unsubscribe', assignments, pos: at() });
export const raiseEvent = (...assignments: Assignment[]): Statement => ({ kind: 'raise-event', assignments, pos: at() });
export const lockS = (lockType: string, value: Expr, l?: number): Statement => ({ kind: 'lock', lockType, value, pos: at(l) });
export const unlockS = (lockType: string, value: Expr): Statement => ({ kind: 'unlock', lockType, value, pos: at() });
export const waitForLock = (lockType: string, ...assignments: Assignment[]): Statement => ({ kind: 'wait-for-lock', lockType, assignments, pos: at() });
export const interfaceCall = (interfaceName: string, destinations: string[], selector: Expr, imap: Assignment[] = [], omap: Assignment[] = []): Statement => ({
  kind: 'interface-call', interfaceName, destinations, selector, imap, omap, pos: at(),
});

// Units ----------------------------------------------------------------------------------------

/** `name type` (required), `name type default`, or an optional output. */
export function param(name: string, type: string, opts: { default?: Json; optional?: boolean } = {}): IoSpec {
  return { name, type, optional: opts.optional ?? false, ...(opts.default !== undefined ? { default: opts.default } : {}), pos: at() };
}

export function lockSpec(type: string, value: string, opts: { inherit?: boolean; manual?: boolean } = {}): LockSpec {
  return { type, value, inherit: opts.inherit ?? false, manual: opts.manual ?? false, pos: at() };
}

/** A workflow unit; everything but the body defaults to empty. */
export function workflow(name: string, body: Block, rest: Partial<Omit<WorkflowUnit, 'kind' | 'name' | 'body'>> = {}): WorkflowUnit {
  return {
    kind: 'workflow', name, implements: null, in: [], out: [], role: [], config: [], wfenv: [], locks: [], wfomap: [], body, pos: { line: 1, column: 1 },
    ...rest,
  };
}
