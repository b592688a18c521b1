// Loading JCL files into a store: what `drover workflows load` and `POST /workflows` both do, so
// a file is checked against the same stored units and refused with the same message either way.
import {
  ValidationError,
  validateFuncname,
  validateWorkflowTag,
  type Json,
  type NamedJsonSchema,
  type StoredWorkflowUnit,
  type WorkflowRunStore,
  type WorkflowUnitRef,
  type WorkflowUnitStore,
} from '@drover/core';
import type { CatalogEntry, Catalog, TypeChecker } from './ports.js';
import { JsonSchemaError, createTypeChecker } from './expr/types.js';
import { loadJcl, type JclSource } from './load.js';
import { JclCompileError } from './machine/compile-error.js';
import { parseJcl } from './parse/parse-jcl.js';
import { JclSyntaxError } from './parse/syntax-error.js';

/**
 * The stored units as a compile-time catalog, `units` as listWorkflowUnits(tag) gives them (per
 * name, the version a job asking for `tag` runs), by their saved signatures. A version that job
 * would not run (one carrying only other tags, listed so nothing is hidden) is not offered, nor a
 * unit saved without a signature (before signatures were kept): a call of either is refused as
 * unknown, and loading that unit again, untagged or with the tag, gives it one.
 */
export function storedCatalog(units: readonly StoredWorkflowUnit[], tag: string | null = null): Catalog {
  const byName = new Map<string, CatalogEntry>();
  for (const unit of units) {
    const runs = unit.tags.length === 0 || (tag !== null && unit.tags.includes(tag));
    if (runs && isEntry(unit.signature)) byName.set(unit.name, unit.signature);
  }
  return { lookup: (name) => byName.get(name) ?? null };
}

function isEntry(value: Json | null): value is Json & CatalogEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value;
  return typeof v.name === 'string' && typeof v.kind === 'string' && Array.isArray(v.in) && Array.isArray(v.out);
}

/** A named JSON Schema to load, from the file `fileName` when it came from one. */
export interface SchemaSource extends NamedJsonSchema {
  readonly fileName?: string;
}

/** What one load saves: units from JCL files, the named schemas they may use, the version tag. */
export interface UnitLoad {
  readonly files: readonly JclSource[];
  readonly schemas?: readonly SchemaSource[];
  /**
   * The tag the units are saved with (none: default versions). Their calls are compiled against
   * the versions a job asking for this tag runs, as its children will run them.
   */
  readonly tag?: string | null;
}

/** What a load saved. */
export interface LoadedUnits {
  readonly units: WorkflowUnitRef[];
  /** The names of the schemas saved. */
  readonly schemas: string[];
}

/**
 * Checks the schemas, parses and compiles the files against the units and schemas `store` holds
 * (and the load's own schemas), then saves the schemas and every unit in order, in one
 * transaction. Nothing is saved when anything is refused: a file that does not parse or compile
 * is a ValidationError whose field is `file:line:column` (its message reads as a compiler's,
 * `x.wf:3:5: …`); a schema that does not compile names its file (or `schemas[i]`).
 */
export async function loadUnits(
  store: Pick<WorkflowUnitStore, 'listWorkflowUnits' | 'saveWorkflowUnits'> & Pick<WorkflowRunStore, 'jsonSchemas'>,
  load: UnitLoad,
): Promise<LoadedUnits> {
  const tag = validateWorkflowTag(load.tag, 'tag');
  const schemas = load.schemas ?? [];
  // A schema has one version, which every version of every unit naming it checks against: saved
  // with a tagged load it would change the default versions' types too.
  if (tag !== null && schemas.length > 0) throw new ValidationError('schemas', 'are not versioned by tag: load them without a tag');
  const types = typesWith(await store.jsonSchemas(), schemas);
  const stored = await store.listWorkflowUnits(tag);
  const latest = new Map(stored.map((u) => [u.name, u.latestVersion]));
  let loaded;
  try {
    loaded = loadJcl(load.files, { stored: storedCatalog(stored, tag), types, version: (name) => (latest.get(name) ?? 0) + 1 });
  } catch (err) {
    throw asLocated(err, load.files);
  }
  const units = await store.saveWorkflowUnits(
    loaded.map((u) => ({ name: u.name, kind: u.kind, tags: tag === null ? [] : [tag], source: u.source, unit: u.unit, compiled: u.compiled, signature: u.signature as unknown as Json })),
    schemas.map(({ name, schema }) => ({ name, schema })),
  );
  return { units, schemas: schemas.map((s) => s.name) };
}

/**
 * The type checker of the stored schemas with the load's own in their place, built once. A load's
 * schema that is not an object, or that the checker refuses (it does not compile, alone or
 * `$ref`-ing the others, or shadows a basic type), refuses the load naming its file (or
 * `schemas[i]`); a stored schema that no longer compiles beside the load's refuses it naming it.
 */
function typesWith(stored: readonly NamedJsonSchema[], schemas: readonly SchemaSource[]): TypeChecker {
  const fieldOf = (i: number): string => schemas[i]!.fileName ?? `schemas[${i}]`;
  schemas.forEach((s, i) => {
    // Named as the caller named it: a file's name is where the schema's name came from.
    validateFuncname(s.name, s.fileName ?? `${fieldOf(i)}.name`);
    if (typeof s.schema !== 'object' || s.schema === null || Array.isArray(s.schema)) {
      throw new ValidationError(s.fileName ?? `${fieldOf(i)}.schema`, 'must be a JSON object');
    }
  });
  const names = new Set(schemas.map((s) => s.name));
  const all = [...stored.filter((o) => !names.has(o.name)), ...schemas];
  try {
    return createTypeChecker(Object.fromEntries(all.map((s) => [s.name, s.schema as object])));
  } catch (err) {
    if (!(err instanceof JsonSchemaError)) throw err;
    const i = schemas.findIndex((s) => s.name === err.schema);
    const field = i < 0 ? 'schemas' : fieldOf(i);
    const whose = i < 0 ? `the stored JSON schema ${err.schema}` : `JSON schema ${err.schema}`;
    throw new ValidationError(field, `${whose} cannot be used: ${err.message}`, { cause: err });
  }
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
