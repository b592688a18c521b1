/**
 * Named JSON Schemas (JobCenter's json_schemas): the types `in:`/`out:`/`env:` lines may name
 * besides the basic ones. The store keeps them; whether one compiles is the workflow package's
 * business (Ajv lives there), checked by the caller before it saves.
 */
import { ValidationError, toJsonText, validateFuncname, type Json } from '@drover/core';
import type { StoreContext } from './context.js';
import type { SqlExecutor } from './executor.js';
import { SQL } from './statements.js';

/** The basic types' names: a schema of one of these names would shadow the type. */
const RESERVED = new Set(['number', 'string', 'boolean', 'null', 'array', 'object', 'json', 'any']);

/** Stores a schema under `name`, replacing one of that name; bad input names the field and stores nothing. */
export async function saveJsonSchema(ctx: StoreContext, name: string, schema: Json): Promise<void> {
  await saveSchemaOn(ctx, ctx.db, checkSchema(name, schema, ''));
}

/** A checked schema: its name and its JSON text. */
export type SchemaParams = [string, string];

/** The INSERT's parameters (but now), or a ValidationError naming the field, with `prefix` before it. */
export function checkSchema(name: string, schema: Json, prefix: string): SchemaParams {
  // Schema names are written where types are (`in: order order_schema`): a funcname's alphabet.
  const valid = validateFuncname(name, `${prefix}name`);
  if (RESERVED.has(valid)) throw new ValidationError(`${prefix}name`, `must not be a basic type's name (${valid})`);
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    // A JSON Schema is an object (or a boolean, which names no useful type here).
    throw new ValidationError(`${prefix}schema`, 'must be a JSON object');
  }
  return [valid, toJsonText(schema, `${prefix}schema`)];
}

/** Saves a checked schema on `db` (a transaction's executor, or the pool), replacing one of its name. */
export async function saveSchemaOn(ctx: StoreContext, db: SqlExecutor, [name, text]: SchemaParams): Promise<void> {
  await db.query(SQL.saveJsonSchema, [name, text, ctx.now()]);
}

/** Every stored schema, by name. */
export async function jsonSchemas(ctx: StoreContext): Promise<{ name: string; schema: Json }[]> {
  return ctx.db.query<{ name: string; schema: Json }>(SQL.jsonSchemas, []);
}

/** Deletes the tags of jobs that no longer exist (live or finished). */
export async function trimJobTags(ctx: StoreContext): Promise<number> {
  return (await ctx.db.query(SQL.trimJobTags, [])).length;
}
