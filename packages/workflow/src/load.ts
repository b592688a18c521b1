// Loading JCL sources: parse every file, learn every unit's signature, then compile. The CLI's
// `drover workflows load`, `drover dev` and the tests all load through here, so a file is checked
// the same way wherever it comes from.
import type { Json, Unit } from './ast.js';
import { compileAction, compileWorkflow } from './machine/compile.js';
import { checkParams } from './machine/compile-checks.js';
import { JclCompileError } from './machine/compile-error.js';
import type { ParamSpec } from './machine/program.js';
import { parseJcl } from './parse/parse-jcl.js';
import type { Catalog, CatalogEntry, TypeChecker } from './ports.js';

/** A source file to load. */
export interface JclSource {
  readonly fileName: string;
  readonly text: string;
}

/** A unit ready to store: what the store's `saveWorkflowUnit` takes. */
export interface LoadedUnit {
  readonly name: string;
  readonly kind: Unit['kind'];
  readonly source: string;
  /** The syntax tree, as JSON. */
  readonly unit: Json;
  /** The program's code (CompiledWorkflow.code), for workflows; null for actions, procedures and interfaces. */
  readonly compiled: Json | null;
  /** What other units compiled against: the signature with an interface's in/out resolved. */
  readonly signature: CatalogEntry;
}

/**
 * Parses and compiles the sources. Units in the same load see each other (a workflow may call an
 * action declared in a later file, or itself); names not loaded here are looked up in `stored`.
 * Throws JclSyntaxError or JclCompileError for the first bad unit: nothing is returned, so a
 * caller stores all of a load or none of it. `version` is the version each workflow will be
 * stored under (the store assigns it; the compiled code records it for the step log).
 */
export function loadJcl(sources: readonly JclSource[], options: { readonly stored: Catalog; readonly types: TypeChecker; readonly version?: (name: string) => number }): LoadedUnit[] {
  const parsed = sources.flatMap((source) => parseJcl(source.text, source.fileName).map((unit) => ({ unit, source })));
  const byName = new Map<string, Unit>();
  for (const { unit } of parsed) {
    if (byName.has(unit.name)) throw new JclCompileError(unit.name, unit.pos, `${unit.name} is declared twice in this load`);
    byName.set(unit.name, unit);
  }
  const entries = new Map<string, CatalogEntry>();
  const catalog: Catalog = {
    lookup(name) {
      const known = entries.get(name);
      if (known) return known;
      const unit = byName.get(name);
      if (!unit) return options.stored.lookup(name);
      const entry = signatureOf(unit, catalog, options.types);
      entries.set(name, entry);
      return entry;
    },
  };
  return parsed.map(({ unit, source }) => ({
    name: unit.name,
    kind: unit.kind,
    source: source.text,
    unit: unit as unknown as Json,
    compiled: unit.kind === 'workflow' ? compileWorkflow(unit, { version: options.version?.(unit.name) ?? 1, catalog, types: options.types }).code : null,
    signature: catalog.lookup(unit.name)!,
  }));
}

/**
 * A unit's signature, its declarations checked as compiling it checks them (types known, no name
 * twice, defaults of their type; an action's `config:` literal); `interface NAME:` inside a unit
 * takes that interface's in and out.
 */
function signatureOf(unit: Unit, catalog: Catalog, types: TypeChecker): CatalogEntry {
  if (unit.implements && unit.in.length === 0 && unit.out.length === 0) {
    const base = catalog.lookup(unit.implements);
    if (!base) throw new JclCompileError(unit.name, unit.pos, `unknown interface ${unit.implements}`);
    return { name: unit.name, kind: unit.kind, in: base.in, out: base.out };
  }
  const declared = unit.kind === 'workflow'
    ? { in: checkParams(unit.name, unit.in, types, 'input'), out: checkParams(unit.name, unit.out, types, 'output') }
    : compileAction(unit, { types });
  const param = ({ name, type, optional }: ParamSpec) => ({ name, type, optional });
  return { name: unit.name, kind: unit.kind, in: declared.in.map(param), out: declared.out.map(param) };
}
