// A TEST-ONLY evaluator and type checker: literals, variables, a few operators and plain
// assignments with magic, enough to drive the step machine. The real expression language and
// sandbox are written elsewhere; nothing here is exported from the package.
import type { Assignment, Expr, Json } from '../../ast.js';
import { WorkflowError, type Evaluator, type JsonObject, type MapKind, type Scopes, type TypeChecker } from '../../ports.js';

const DEFAULT_SCOPE = { imap: 'i', omap: 'v', wfomap: 'o' } as const;
const WRITABLE = { imap: ['i', 't'], omap: ['v', 't'], wfomap: ['o', 't'] } as const;
const MAGIC_SOURCE = { imap: ['i', 'v'], omap: ['v', 'o'], wfomap: ['o', 'v'] } as const;

function num(value: Json, pos: Expr['pos']): number {
  if (typeof value !== 'number') throw new WorkflowError('normal', `not a number: ${JSON.stringify(value)}`, pos);
  return value;
}

const text = (v: Json): string => (typeof v === 'string' ? v : JSON.stringify(v));

function truthy(value: Json): boolean {
  return !(value === null || value === false || value === 0 || value === '' || value === '0');
}

async function evaluate(expr: Expr, scopes: Scopes): Promise<Json> {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'variable': {
      let cur: Json | undefined = scopes[expr.scope];
      for (const p of expr.path) {
        cur = cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? cur[p.key] : undefined;
        if (p.index !== undefined) cur = Array.isArray(cur) ? cur[p.index] : undefined;
      }
      return cur ?? null;
    }
    case 'unary': {
      const v = await evaluate(expr.operand, scopes);
      return expr.op === '-' ? -num(v, expr.pos) : expr.op === '+' ? num(v, expr.pos) : !truthy(v);
    }
    case 'binary': {
      const l = await evaluate(expr.left, scopes);
      const r = await evaluate(expr.right, scopes);
      switch (expr.op) {
        case '+': return num(l, expr.pos) + num(r, expr.pos);
        case '-': return num(l, expr.pos) - num(r, expr.pos);
        case '*': return num(l, expr.pos) * num(r, expr.pos);
        case '.': return text(l) + text(r);
        case '<': return num(l, expr.pos) < num(r, expr.pos);
        case '>': return num(l, expr.pos) > num(r, expr.pos);
        case '>=': return num(l, expr.pos) >= num(r, expr.pos);
        case '==': case 'eq': return JSON.stringify(l) === JSON.stringify(r);
        case '!=': case 'ne': return JSON.stringify(l) !== JSON.stringify(r);
        case '&&': case 'and': return truthy(l) && truthy(r);
        case '||': case 'or': return truthy(l) || truthy(r);
        default: throw new WorkflowError('normal', `test evaluator lacks operator ${expr.op}`, expr.pos);
      }
    }
    default:
      throw new WorkflowError('normal', `test evaluator lacks ${expr.kind} expressions`, expr.pos);
  }
}

function setPath(target: JsonObject, keys: readonly string[], value: Json): void {
  let cur = target;
  for (const key of keys.slice(0, -1)) {
    const next = cur[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as JsonObject;
  }
  const last = keys[keys.length - 1];
  if (last !== undefined) cur[last] = value;
}

async function assign(assignments: readonly Assignment[], scopes: Scopes, kind: MapKind): Promise<void> {
  for (const a of assignments) {
    if (a.kind === 'block') throw new WorkflowError('normal', 'test evaluator runs no blocks', a.pos);
    if (a.kind === 'magic') {
      const [to, from] = MAGIC_SOURCE[kind];
      for (const name of a.names ?? Object.keys(scopes[from])) {
        const value = scopes[from][name];
        if (value !== undefined) scopes[to][name] = structuredClone(value);
      }
      continue;
    }
    const scope = a.scope ?? DEFAULT_SCOPE[kind];
    if (!(WRITABLE[kind] as readonly string[]).includes(scope)) throw new WorkflowError('normal', `cannot assign to ${scope} in ${kind}`, a.pos);
    let value = await evaluate(a.value, scopes);
    if (a.op === '+=') value = num(await evaluate({ kind: 'variable', scope, path: a.path, pos: a.pos }, scopes), a.pos) + num(value, a.pos);
    else if (a.op !== '=') throw new WorkflowError('normal', `test evaluator lacks ${a.op}`, a.pos);
    setPath(scopes[scope], a.path.map((p) => p.key), value);
  }
}

/** The test-only evaluator. */
export function createTestEvaluator(): Evaluator {
  return { evaluate, assign, truthy };
}

const BASIC: { readonly [type: string]: (v: Json) => boolean } = {
  json: () => true,
  number: (v) => typeof v === 'number',
  string: (v) => typeof v === 'string',
  boolean: (v) => typeof v === 'boolean',
  null: (v) => v === null,
  array: (v) => Array.isArray(v),
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  /** A stand-in for a registered schema. */
  positive: (v) => typeof v === 'number' && v > 0,
};

/** The test-only type checker: JSON's basic types plus one named "schema", `positive`. */
export const testTypes: TypeChecker = {
  knows: (type) => type in BASIC,
  check: (value, type) => {
    const test = BASIC[type];
    if (!test) return `unknown type ${type}`;
    return test(value) ? null : `expected ${type}, got ${JSON.stringify(value)}`;
  },
};
