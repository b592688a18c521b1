// Loading JCL sources: parse every file, learn every unit's signature, then compile. The CLI's
// `drover workflows load`, `drover dev` and the tests all load through here, so a file is checked
// the same way wherever it comes from.
import type { IoSpec, Json, Unit } from './ast.js';
import { compileWorkflow } from './machine/compile.js';
import { JclCompileError } from './machine/compile-error.js';
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
      const entry = signatureOf(unit, catalog);
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

/** A unit's signature; `interface NAME:` inside a unit takes that interface's in and out. */
export function signatureOf(unit: Unit, catalog: Catalog): CatalogEntry {
  const param = (spec: IoSpec, input: boolean) => ({ name: spec.name, type: spec.type, optional: input ? spec.default !== undefined : spec.optional });
  if (unit.implements && unit.in.length === 0 && unit.out.length === 0) {
    const base = catalog.lookup(unit.implements);
    if (!base) throw new JclCompileError(unit.name, unit.pos, `unknown interface ${unit.implements}`);
    return { name: unit.name, kind: unit.kind, in: base.in, out: base.out };
  }
  return { name: unit.name, kind: unit.kind, in: unit.in.map((s) => param(s, true)), out: unit.out.map((s) => param(s, false)) };
}
