// Test-only builders for hand-made syntax trees, shared by the evaluator, compiler and machine tests
// so that none of them depends on the parser (which has its own tests).
// Positions count up so that every node has a distinct line: the compiler's and the machine's
// error messages name the line, and their tests tell nodes apart by it.
import type {
  Assignment, AssignmentOperator, BinaryOperator, Block, Expr, IoSpec, Json, LockSpec, PathPart, Pos, Scope, Statement, UnaryOperator, WorkflowUnit,
} from '../ast.js';
import type { Scopes } from '../ports.js';

let line = 0;
/** A fresh position (line n, column 1), or line `l` when a test asserts on it. */
export function at(l?: number): Pos {
  line += 1;
  return { line: l ?? line, column: 1 };
}

// Expressions ----------------------------------------------------------------------------------

export const lit = (value: Json): Expr => ({ kind: 'literal', value, pos: at() });

/** `path('a.b[2].c')` → the PathPart list. */
function path(text: string): PathPart[] {
  if (text === '') return [];
  return text.split('.').map((part) => {
    const m = /^(.+?)\[(-?\d+)\]$/.exec(part);
    return m ? { key: m[1]!, index: Number(m[2]) } : { key: part };
  });
}

/** `ref('v.a.b[1]')` → a variable node. */
export function ref(text: string): Expr {
  const [scope, ...rest] = text.split('.');
  return { kind: 'variable', scope: scope as Scope, path: path(rest.join('.')), pos: at() };
}

/** `bin(left, op, right)`, in the order the source reads. */
export const bin = (left: Expr, op: BinaryOperator, right: Expr): Expr => ({ kind: 'binary', op, left, right, pos: at() });
export const un = (op: UnaryOperator, operand: Expr): Expr => ({ kind: 'unary', op, operand, pos: at() });
export const not = (operand: Expr): Expr => un('not', operand);
/** A function call inside an expression, `name(args…)`; `call` is the call statement. */
export const fn = (name: string, ...args: Expr[]): Expr => ({ kind: 'call', name, args, pos: at() });
export const match = (subject: Expr, pattern: string, flags = ''): Expr => ({ kind: 'match', subject, pattern, flags, pos: at() });
export const block = (code: string): Expr => ({ kind: 'block', code, pos: at() });

// Assignments ----------------------------------------------------------------------------------

/** `lhs op value`; `lhs` as `'v.x'`, or `'x'` for the map's default scope; a plain JSON value is a literal. */
export function set(lhs: string, value: Expr | Json, op: AssignmentOperator = '='): Assignment {
  const [first, ...rest] = lhs.split('.');
  const scoped = rest.length > 0 && /^[aeivot]$/.test(first!);
  const expr = isExpr(value) ? value : lit(value);
  return { kind: 'assign', scope: scoped ? (first as Scope) : null, path: path(scoped ? rest.join('.') : lhs), op, value: expr, pos: at() };
}

function isExpr(value: unknown): value is Expr {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'kind' in value && 'pos' in value;
}

/** `<a, b>`, or `<*>` for null. */
export const magic = (names: string[] | null = null): Assignment => ({ kind: 'magic', names, pos: at() });
/** An inline block in an assignment list. */
export const blockAssign = (code: string): Assignment => ({ kind: 'block', code, pos: at() });

/** All six scopes, empty but for `partial`. */
export function scopes(partial: Partial<Scopes> = {}): Scopes {
  return { a: {}, e: {}, v: {}, t: {}, i: {}, o: {}, ...partial };
}

// Statements -----------------------------------------------------------------------------------

export const evalS = (...assignments: Assignment[]): Statement => ({ kind: 'eval', assignments, pos: at() });
/** The call statement `call name imap omap`; `fn` is a function call inside an expression. */
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
