// The load-time checks: everything about a unit that is knowable without running it. Each throws a
// JclCompileError at the offending node, so a unit that would fail on its first run is refused at
// load instead (JobCenter's compiler refuses unknown actions and labels the same way).
import type { Assignment, IoSpec, LockSpec, Pos, Statement, WorkflowUnit } from '../ast.js';
import type { Catalog, CatalogEntry, TypeChecker } from '../ports.js';
import { JclCompileError } from './compile-error.js';
import type { CalleeSignature, ParamSpec } from './program.js';
import { walkStatements } from './walk.js';

/** Limits JobCenter has by default (doc/jcl.md "Limits"), overridable by `config:`. */
export const DEFAULT_MAX_STEPS = 100;
export const DEFAULT_MAX_DEPTH = 10;

/** Checks a unit's `in:`/`out:`/`env:` types and literal defaults; returns them as ParamSpecs. */
export function checkParams(unit: string, specs: readonly IoSpec[], types: TypeChecker, what: string): ParamSpec[] {
  // A name declared twice would make the later declaration silently win at run time.
  const seen = new Set<string>();
  return specs.map((p) => {
    if (seen.has(p.name)) throw new JclCompileError(unit, p.pos, `duplicate ${what} ${p.name}`);
    seen.add(p.name);
    if (!types.knows(p.type)) throw new JclCompileError(unit, p.pos, `unknown type ${p.type} for ${what} ${p.name}`);
    if (p.default !== undefined) {
      const problem = types.check(p.default, p.type);
      if (problem !== null) throw new JclCompileError(unit, p.pos, `default of ${what} ${p.name}: ${problem}`);
    }
    return {
      name: p.name,
      type: p.type,
      optional: p.optional || p.default !== undefined,
      ...(p.default !== undefined ? { default: p.default } : {}),
    };
  });
}

/** Reads `config:` (literal max_steps / max_depth only). */
export function readConfig(unit: string, config: readonly Assignment[]): { maxSteps: number; maxDepth: number } {
  let maxSteps = DEFAULT_MAX_STEPS;
  let maxDepth = DEFAULT_MAX_DEPTH;
  for (const a of config) {
    if (a.kind !== 'assign' || a.path.length !== 1 || a.op !== '=') {
      throw new JclCompileError(unit, a.pos, 'config takes only `max_steps = N` and `max_depth = N`');
    }
    const key = a.path[0]?.key;
    if (key !== 'max_steps' && key !== 'max_depth') {
      throw new JclCompileError(unit, a.pos, `unknown config key ${String(key)} (only max_steps and max_depth)`);
    }
    const value = a.value.kind === 'literal' ? a.value.value : null;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new JclCompileError(unit, a.pos, `config ${key} must be a positive whole number`);
    }
    if (key === 'max_steps') maxSteps = value;
    else maxDepth = value;
  }
  return { maxSteps, maxDepth };
}

/** Checks lock statements against `locks:` (declared; `lock`/`unlock` need it `manual`). */
export function checkLocks(unit: WorkflowUnit): void {
  const declared = new Map<string, LockSpec>();
  for (const l of unit.locks) {
    if (declared.has(l.type)) throw new JclCompileError(unit.name, l.pos, `lock type ${l.type} declared twice`);
    declared.set(l.type, l);
  }
  walkStatements(unit.body, (s) => {
    if (s.kind !== 'lock' && s.kind !== 'unlock' && s.kind !== 'wait-for-lock') return;
    const spec = declared.get(s.lockType);
    if (!spec) throw new JclCompileError(unit.name, s.pos, `lock type ${s.lockType} is not declared in locks:`);
    if (s.kind !== 'wait-for-lock' && !spec.manual) {
      throw new JclCompileError(unit.name, s.pos, `${s.kind} of lock type ${s.lockType}, which is not declared manual`);
    }
  });
}

/** Looks a callee up, or throws the error the brief's users will see first. */
function known(unit: string, catalog: Catalog, name: string, pos: Pos): CatalogEntry {
  const entry = catalog.lookup(name);
  if (!entry) throw new JclCompileError(unit, pos, `unknown action ${name}: load its action unit first`);
  return entry;
}

function signature(entry: CatalogEntry): CalleeSignature {
  const param = (p: CatalogEntry['in'][number]): ParamSpec => ({ name: p.name, type: p.type, optional: p.optional });
  return { kind: entry.kind, in: entry.in.map(param), out: entry.out.map(param) };
}

/** Same names, types and optionality: what "implements" can mean with the catalog's information. */
function sameSignature(a: CatalogEntry, b: CatalogEntry): boolean {
  const same = (x: CatalogEntry['in'], y: CatalogEntry['in']): boolean =>
    x.length === y.length && x.every((p) => y.some((q) => q.name === p.name && q.type === p.type && q.optional === p.optional));
  return same(a.in, b.in) && same(a.out, b.out);
}

/**
 * Checks an input map against the callee: no explicit input it does not declare, no literal of the
 * wrong type, and, when the map has no magic or block (which may set anything), every required
 * input assigned.
 */
function checkImap(unit: string, callee: CatalogEntry, imap: readonly Assignment[], types: TypeChecker, pos: Pos): void {
  const assigned = new Set<string>();
  let opaque = false;
  for (const a of imap) {
    if (a.kind !== 'assign') {
      opaque = true;
      continue;
    }
    // Only inputs are checked: `t.` temporaries are the map's own scratch space.
    if (a.scope !== null && a.scope !== 'i') continue;
    const key = a.path[0]?.key;
    if (key === undefined) continue;
    const param = callee.in.find((p) => p.name === key);
    if (!param) throw new JclCompileError(unit, a.pos, `${callee.name} has no input ${key}`);
    assigned.add(key);
    if (a.path.length === 1 && a.op === '=' && a.value.kind === 'literal') {
      const problem = types.check(a.value.value, param.type);
      if (problem !== null) throw new JclCompileError(unit, a.value.pos, `input ${key} of ${callee.name}: ${problem}`);
    }
  }
  // Magic (`<x>`) and blocks may set any input, so what they leave unassigned is unknowable here.
  if (opaque) return;
  const missing = callee.in.filter((p) => !p.optional && !assigned.has(p.name)).map((p) => p.name);
  if (missing.length > 0) throw new JclCompileError(unit, pos, `call of ${callee.name} leaves required input ${missing.join(', ')} unassigned`);
}

/** Checks every call-like statement against the catalog; returns the callee signatures to store. */
export function checkCallees(unit: string, body: readonly Statement[], catalog: Catalog, types: TypeChecker): Record<string, CalleeSignature> {
  const callees: Record<string, CalleeSignature> = {};
  const use = (name: string, imap: readonly Assignment[], pos: Pos): void => {
    const entry = known(unit, catalog, name, pos);
    if (entry.kind === 'interface') throw new JclCompileError(unit, pos, `${name} is an interface: call one of its implementations`);
    checkImap(unit, entry, imap, types, pos);
    callees[name] = signature(entry);
  };
  walkStatements(body, (s) => {
    switch (s.kind) {
      case 'call':
      case 'map':
      case 'detachflow':
        return use(s.name, s.imap, s.pos);
      case 'split':
        for (const c of s.children) use(c.name, c.imap, c.pos);
        return;
      case 'interface-call': {
        const iface = known(unit, catalog, s.interfaceName, s.pos);
        if (iface.kind !== 'interface') throw new JclCompileError(unit, s.pos, `${s.interfaceName} is not an interface`);
        checkImap(unit, iface, s.imap, types, s.pos);
        for (const d of s.destinations) {
          const entry = known(unit, catalog, d, s.pos);
          if (!sameSignature(entry, iface)) throw new JclCompileError(unit, s.pos, `${d} does not implement interface ${s.interfaceName}`);
          callees[d] = signature(entry);
        }
        return;
      }
      default:
        return;
    }
  });
  return callees;
}

/** The `in`/`out` a unit that says `interface NAME:` takes from that interface when it declares none. */
export function implementedParams(unit: { name: string; implements: string | null; pos: Pos }, catalog: Catalog): CatalogEntry | null {
  if (unit.implements === null) return null;
  const iface = known(unit.name, catalog, unit.implements, unit.pos);
  if (iface.kind !== 'interface') throw new JclCompileError(unit.name, unit.pos, `${unit.implements} is not an interface`);
  return iface;
}
