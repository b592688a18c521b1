// Loading JCL files into a store: what `drover workflows load` and `POST /workflows` both do, so
// a file is checked against the same stored units and refused with the same message either way.
import { ValidationError, type Json, type StoredWorkflowUnit, type WorkflowUnitRef, type WorkflowUnitStore } from '@drover/core';
import type { CatalogEntry, Catalog, TypeChecker } from './ports.js';
import { loadJcl, type JclSource } from './load.js';
import { JclCompileError } from './machine/compile-error.js';
import { parseJcl } from './parse/parse-jcl.js';
import { JclSyntaxError } from './parse/syntax-error.js';

/**
 * The stored units as a compile-time catalog: each name's newest version, by its saved signature.
 * A unit saved without one (before signatures were kept) is not offered: a call of it is refused
 * as unknown, and loading that unit again gives it one.
 */
export function storedCatalog(units: readonly StoredWorkflowUnit[]): Catalog {
  const byName = new Map<string, CatalogEntry>();
  for (const unit of units) if (isEntry(unit.signature)) byName.set(unit.name, unit.signature);
  return { lookup: (name) => byName.get(name) ?? null };
}

function isEntry(value: Json | null): value is Json & CatalogEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value;
  return typeof v.name === 'string' && typeof v.kind === 'string' && Array.isArray(v.in) && Array.isArray(v.out);
}

/**
 * Parses and compiles `sources` against the units `store` holds, then saves every unit in order,
 * in one transaction. A file that does not parse or compile saves nothing and is a ValidationError
 * whose field is `file:line:column` (so its message reads as a compiler's, `x.wf:3:5: …`).
 */
export async function loadUnits(
  store: Pick<WorkflowUnitStore, 'listWorkflowUnits' | 'saveWorkflowUnits'>,
  sources: readonly JclSource[],
  types: TypeChecker,
): Promise<WorkflowUnitRef[]> {
  const stored = await store.listWorkflowUnits();
  const versions = new Map(stored.map((u) => [u.name, u.version]));
  let loaded;
  try {
    loaded = loadJcl(sources, { stored: storedCatalog(stored), types, version: (name) => (versions.get(name) ?? 0) + 1 });
  } catch (err) {
    throw asLocated(err, sources);
  }
  return store.saveWorkflowUnits(
    loaded.map((u) => ({ name: u.name, kind: u.kind, source: u.source, unit: u.unit, compiled: u.compiled, signature: u.signature as unknown as Json })),
  );
}

/** A parse or compile error as a ValidationError naming `file:line:column`; anything else as is. */
function asLocated(err: unknown, sources: readonly JclSource[]): unknown {
  if (err instanceof JclSyntaxError) {
    const where = `${err.fileName}:${err.line}:${err.column}`;
    return new ValidationError(where, err.message.replace(`${where}: `, ''), { cause: err });
  }
  if (err instanceof JclCompileError) {
    return new ValidationError(`${fileOf(err, sources)}:${err.pos.line}:${err.pos.column}`, `${err.unit}: ${err.detail}`, { cause: err });
  }
  return err;
}

/**
 * The file the error is in: the one whose declaration of the unit starts at the error (a name
 * declared twice: the second), else the one declaring the unit. Every file parsed, as the load did.
 */
function fileOf(err: JclCompileError, sources: readonly JclSource[]): string {
  const declaring = sources.map((s) => ({ s, units: parseJcl(s.text, s.fileName).filter((u) => u.name === err.unit) })).filter((d) => d.units.length > 0);
  const at = declaring.find((d) => d.units.some((u) => u.pos.line === err.pos.line && u.pos.column === err.pos.column)) ?? declaring[0];
  return at?.s.fileName ?? '<jcl>';
}
