// A type checker over the store's named JSON Schemas that can be rebuilt in place. The machine and
// its evaluator hold one TypeChecker for their lifetime; the engine, which knows when schemas are
// saved (the `units` NOTIFY, its refresh), swaps what that checker delegates to.
import type { Json } from '../ast.js';
import type { TypeChecker } from '../ports.js';
import { createTypeChecker } from './types.js';

/** A TypeChecker whose named schemas can be replaced while machines hold it. */
export interface ReloadableTypeChecker extends TypeChecker {
  /**
   * Replaces the named schemas. Throws (naming the schema) when one does not compile, and then
   * keeps the schemas it had: a broken save must not take away the types running workflows use.
   */
  reload(schemas: readonly { readonly name: string; readonly schema: Json }[]): void;
}

/**
 * A type checker to give the machine (and its evaluator) and the engine's `types` option: the
 * engine reloads it from the store's schemas when it starts and whenever units or schemas are saved.
 *
 * @example
 * ```ts
 * const types = createReloadableTypeChecker();
 * const machine = createMachine({ evaluator: createEvaluator({ sandbox, types }), types });
 * createWorkflowEngine({ store, broker, machine, types });
 * ```
 */
export function createReloadableTypeChecker(): ReloadableTypeChecker {
  let current = createTypeChecker({});
  return {
    check: (value, type) => current.check(value, type),
    knows: (type) => current.knows(type),
    reload(schemas) {
      current = createTypeChecker(schemaRecord(schemas));
    },
  };
}

/**
 * A type checker over the schemas stored now: what `loadJcl` needs to accept `in:` lines naming
 * them. Throws when a stored schema does not compile.
 */
export async function storedTypeChecker(store: { jsonSchemas(): Promise<{ name: string; schema: Json }[]> }): Promise<TypeChecker> {
  return createTypeChecker(schemaRecord(await store.jsonSchemas()));
}

/**
 * Checks that a schema compiles (alone, or `$ref`-ing the others given) before it is stored:
 * throws an Error naming it otherwise. What a `drover schemas load` calls before saveJsonSchema.
 */
export function checkJsonSchema(name: string, schema: Json, others: readonly { readonly name: string; readonly schema: Json }[] = []): void {
  createTypeChecker(schemaRecord([...others.filter((o) => o.name !== name), { name, schema }]));
}

function schemaRecord(schemas: readonly { readonly name: string; readonly schema: Json }[]): Record<string, object> {
  const record: Record<string, object> = {};
  for (const { name, schema } of schemas) {
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Error(`JSON schema "${name}" is not an object`);
    record[name] = schema;
  }
  return record;
}
