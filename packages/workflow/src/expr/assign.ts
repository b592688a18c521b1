// Assignment lists (input, output and workflow output maps; eval/let; config and the statement
// maps built on them), as JobCenter's make_perl compiles them for IMAP, OMAP and WFOMAP.
//
// A list is all or nothing: it runs on copies of the scopes it may write and the copies replace
// the originals only when every assignment succeeded (JobCenter's PL/Perl returns its hashes only
// when the whole map ran), so a failing map leaves the scopes as they were for `catch:`.
import type { Assignment, AssignmentOperator, Json, Pos, Scope } from '../ast.js';
import { type JsonObject, type MapKind, type Scopes, WorkflowError } from '../ports.js';
import { type ExpressionEvaluator, runBlock } from './evaluate.js';
import { applyBinary } from './operators.js';
import { pathText, readPath, writePath } from './paths.js';
import type { Sandbox } from './sandbox.js';
import { copyJson, getOwn, isObject, isTrue, setOwn, toText } from './values.js';

/** Per map kind: the default scope, the scopes it may write, and `<x>`'s source scope. */
const MAPS: Record<MapKind, { readonly target: Scope; readonly writable: readonly Scope[]; readonly source: Scope }> = {
  imap: { target: 'i', writable: ['i', 't'], source: 'v' },
  omap: { target: 'v', writable: ['v', 't'], source: 'o' },
  wfomap: { target: 'o', writable: ['o', 't'], source: 'v' },
};

const NUMERIC_OPS: Partial<Record<AssignmentOperator, '+' | '-' | '*' | '/'>> = { '+=': '+', '-=': '-', '*=': '*', '/=': '/' };

/** Runs an assignment list over the scopes; on an error the scopes are unchanged. */
export async function runAssignments(
  expressions: ExpressionEvaluator,
  sandbox: Sandbox,
  assignments: readonly Assignment[],
  scopes: Scopes,
  kind: MapKind,
): Promise<void> {
  const map = MAPS[kind];
  const work: Scopes = { ...scopes };
  for (const scope of map.writable) work[scope] = copyJson(scopes[scope]) as JsonObject;

  for (const assignment of assignments) {
    try {
      if (assignment.kind === 'magic') {
        magic(work, map.target, map.source, assignment.names);
      } else if (assignment.kind === 'block') {
        await block(sandbox, assignment.code, assignment.pos, work, map.writable);
      } else {
        await assign(expressions, work, assignment, kind, map.target, map.writable);
      }
    } catch (error) {
      if (error instanceof WorkflowError) throw error;
      throw new WorkflowError('normal', `assignment failed: ${(error as Error).message}`, assignment.pos);
    }
  }
  // Replace in place: the caller (the step machine) may hold the scope objects themselves.
  for (const scope of map.writable) replaceContents(scopes[scope], work[scope]);
}

async function assign(
  expressions: ExpressionEvaluator,
  work: Scopes,
  assignment: Extract<Assignment, { kind: 'assign' }>,
  kind: MapKind,
  target: Scope,
  writable: readonly Scope[],
): Promise<void> {
  const { path, op, value, pos } = assignment;
  const scope = assignment.scope ?? target;
  if (!writable.includes(scope)) {
    const allowed = writable.map((s) => `${s}.`).join(' or ');
    throw new WorkflowError('normal', `cannot assign to ${pathText(scope, path)} in ${article(kind)} ${kind} (only ${allowed})`, pos);
  }
  const where = pathText(scope, path);
  const old = readPath(work[scope], scope, path, pos);
  // `//=` and `||=` evaluate their right side only when they assign (Perl short-circuits them).
  if (op === '//=' && old !== null) return;
  if (op === '||=' && isTrue(old)) return;

  if (op === ',=') {
    if (old !== null && !Array.isArray(old)) {
      throw new WorkflowError('normal', `,= needs an array at ${where}, found ${typeof old === 'object' ? 'an object' : `a ${typeof old}`}`, pos);
    }
    const pushed = await expressions.spread(value, work);
    writePath(work[scope], scope, path, [...(old ?? []), ...pushed], pos);
    return;
  }
  const rhs = await expressions.evaluate(value, work);
  // `x = ifdef(y)` is JobCenter's `$x = $y if defined $y`: no assignment at all when y is undef.
  if (value.kind === 'call' && value.name === 'ifdef' && rhs === null) return;
  writePath(work[scope], scope, path, combine(op, old, rhs, where, pos), pos);
}

function combine(op: AssignmentOperator, old: Json, rhs: Json, where: string, pos: Pos): Json {
  const numeric = NUMERIC_OPS[op];
  if (numeric) return applyBinary(numeric, old, rhs, pos);
  if (op === '.=') return applyBinary('.', toText(old, where, pos), rhs, pos);
  // '=', and '//=' / '||=' once they decided to assign.
  return rhs;
}

/** `<a, b>`: target.a = source.a for each name; `<*>`: the target becomes a copy of the source. */
function magic(work: Scopes, target: Scope, source: Scope, names: readonly string[] | null): void {
  if (names === null) {
    // JobCenter compiles `<*>` to `%i = %v`: a replacement, not a merge.
    work[target] = copyJson(work[source]) as JsonObject;
    return;
  }
  for (const name of names) setOwn(work[target], name, copyJson(getOwn(work[source], name)));
}

/**
 * An assignment block: the code runs with all six scopes as globals (copies); the scopes this map
 * may write come back from it, the others' changes are dropped.
 */
async function block(sandbox: Sandbox, code: string, pos: Pos, work: Scopes, writable: readonly Scope[]): Promise<void> {
  const { globals } = await runBlock(sandbox, code, { ...work }, pos, 'block');
  for (const scope of writable) {
    const value = globals[scope] ?? null;
    if (!isObject(value)) {
      throw new WorkflowError('normal', `block: ${scope} must stay an object, the block left ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}`, pos);
    }
    work[scope] = value;
  }
}

function replaceContents(target: JsonObject, source: JsonObject): void {
  for (const key of Object.keys(target)) delete target[key];
  for (const key of Object.keys(source)) setOwn(target, key, source[key]!);
}

function article(kind: MapKind): string {
  return kind === 'omap' ? 'an' : kind === 'imap' ? 'an' : 'a';
}
