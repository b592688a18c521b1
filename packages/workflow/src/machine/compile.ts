// The compiler's entry points: a workflow unit becomes a flat JSON program the step machine runs;
// an action unit becomes the signature JSON that callers' compilations and run-time checks use.
import type { ActionUnit, IoSpec, Json, WorkflowUnit } from '../ast.js';
import type { Catalog, CompiledWorkflow, TypeChecker } from '../ports.js';
import { checkCallees, checkLocks, checkParams, implementedParams, readConfig } from './compile-checks.js';
import { JclCompileError } from './compile-error.js';
import { Flattener } from './flatten.js';
import { PROGRAM_FORMAT, type ParamSpec, type Program } from './program.js';

/** What `compileWorkflow` needs besides the unit. */
export interface CompileOptions {
  readonly version: number;
  readonly catalog: Catalog;
  readonly types: TypeChecker;
}

/**
 * Compiles a workflow unit into the program the step machine runs, after the load-time checks
 * (labels, locks, callees known to the catalog and their input maps, types, config).
 *
 * @throws JclCompileError naming the unit, line and column of the first problem.
 */
export function compileWorkflow(unit: WorkflowUnit, options: CompileOptions): CompiledWorkflow {
  const { catalog, types } = options;
  const iface = implementedParams(unit, catalog);
  const fromInterface = (own: readonly IoSpec[], theirs: CompiledFromCatalog | undefined): readonly IoSpec[] =>
    own.length === 0 && theirs ? theirs.map((p) => ({ ...p, pos: unit.pos })) : own;
  const inputs = checkParams(unit.name, fromInterface(unit.in, iface?.in), types, 'input');
  const outputs = checkParams(unit.name, fromInterface(unit.out, iface?.out), types, 'output');
  const { maxSteps, maxDepth } = readConfig(unit.name, unit.config);
  checkLocks(unit);
  const callees = checkCallees(unit.name, unit.body, catalog, types);

  const flat = new Flattener(unit.name, (type) => unit.locks.some((l) => l.type === type && l.inherit));
  // JobCenter takes every non-manual lock at the start, in the order declared (doc/jcl.md "Locking").
  for (const l of unit.locks) {
    if (l.manual) continue;
    flat.emit({
      op: 'lock', lockType: l.type, inherit: l.inherit, value: { kind: 'literal', value: l.value, pos: l.pos },
      assignments: null, next: flat.here() + 1, pos: l.pos,
    });
  }
  flat.block(unit.body);
  const instrs = flat.finish(unit.pos);

  const program: Program = {
    format: PROGRAM_FORMAT,
    unit: unit.name,
    in: inputs,
    out: outputs,
    wfenv: unit.wfenv,
    wfomap: unit.wfomap,
    inheritLocks: unit.locks.some((l) => l.inherit),
    maxSteps,
    maxDepth,
    callees,
    instrs,
  };
  // A JSON round trip drops `undefined` fields, so the stored code is exactly what a reader gets back.
  return { name: unit.name, version: options.version, code: JSON.parse(JSON.stringify(program)) as CompiledWorkflow['code'] };
}

type CompiledFromCatalog = readonly { readonly name: string; readonly type: string; readonly optional: boolean }[];

/** What `compileAction` returns: the signature an action, procedure or interface declares. */
export interface ActionSignature {
  readonly name: string;
  readonly kind: ActionUnit['kind'];
  readonly implements: string | null;
  readonly in: readonly ParamSpec[];
  readonly out: readonly ParamSpec[];
  readonly env: readonly ParamSpec[];
  readonly role: readonly string[];
  /** The unit's `config:` (JobCenter's action settings, such as retries), literal values by key. */
  readonly config: { readonly [key: string]: Json };
}

/**
 * Compiles an action unit to its signature JSON. Actions are served by workers: a call to one is
 * a child job whose funcname is the action's name and whose arg is the input object.
 *
 * @throws JclCompileError on a duplicate name, an unknown type or a bad default (type names and
 *   defaults only when `types` is given), or a `config:` line that is not `key = literal`.
 */
export function compileAction(unit: ActionUnit, options: { readonly types?: TypeChecker } = {}): ActionSignature {
  // Without a checker only the shape is compiled; the type names are then checked where it is known.
  const types: TypeChecker = options.types ?? { knows: () => true, check: () => null };
  const config: { [key: string]: Json } = {};
  for (const a of unit.config) {
    const key = a.kind === 'assign' && a.path.length === 1 && a.op === '=' && a.value.kind === 'literal' ? a.path[0]?.key : undefined;
    if (key === undefined || a.kind !== 'assign' || a.value.kind !== 'literal') {
      throw new JclCompileError(unit.name, a.pos, 'config takes only `key = literal` lines');
    }
    config[key] = a.value.value;
  }
  return {
    name: unit.name,
    kind: unit.kind,
    implements: unit.implements,
    in: checkParams(unit.name, unit.in, types, 'input'),
    out: checkParams(unit.name, unit.out, types, 'output'),
    env: checkParams(unit.name, unit.env, types, 'env'),
    role: unit.role,
    config,
  };
}
