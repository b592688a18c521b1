// Declared types of `in:`, `out:` and `env:` lines: JSON's basic types, `json`/`any` for anything,
// and named JSON Schemas (JobCenter's json_schemas table), checked with Ajv.
import { Ajv, type ValidateFunction } from 'ajv';
import type { Json } from '../ast.js';
import type { TypeChecker } from '../ports.js';
import { typeName } from './values.js';

const BASIC = new Set(['number', 'string', 'boolean', 'null', 'array', 'object']);
const ANYTHING = new Set(['json', 'any']);

/**
 * A type checker over the basic types and the given named JSON Schemas. Each schema is compiled
 * once, here, so a broken schema fails at load with its name rather than at the first job; the
 * schemas may `$ref` one another by name.
 *
 * As in JobCenter (do_inargscheck), null passes every basic type: `in: x number` accepts a
 * null x. A named schema decides about null itself.
 *
 * @example
 * ```ts
 * const types = createTypeChecker({ money: { type: 'object', required: ['amount'] } });
 * types.check({ amount: 5 }, 'money'); // null
 * types.check('5', 'number'); // 'expected number, got string'
 * ```
 */
/** A named schema that the checker cannot take, naming it (`schema`) for the caller to place. */
export class JsonSchemaError extends Error {
  constructor(
    readonly schema: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'JsonSchemaError';
  }
}

export function createTypeChecker(schemas: Record<string, object>): TypeChecker {
  // strict: false: JobCenter's schemas were written for other validators and may carry keywords
  // (`$comment`-like extensions) Ajv's strict mode would reject.
  const ajv = new Ajv({ strict: false, allErrors: false });
  for (const [name, schema] of Object.entries(schemas)) {
    if (BASIC.has(name) || ANYTHING.has(name)) throw new JsonSchemaError(name, `JSON schema "${name}" shadows a basic type`);
    try {
      ajv.addSchema(schema, name);
    } catch (error) {
      throw new JsonSchemaError(name, `JSON schema "${name}" is invalid: ${(error as Error).message}`, { cause: error });
    }
  }
  const compiled = new Map<string, ValidateFunction>();
  for (const name of Object.keys(schemas)) {
    try {
      const validate = ajv.getSchema(name);
      if (!validate) throw new Error('not registered');
      compiled.set(name, validate);
    } catch (error) {
      throw new JsonSchemaError(name, `JSON schema "${name}" does not compile: ${(error as Error).message}`, { cause: error });
    }
  }

  return {
    knows: (type) => BASIC.has(type) || ANYTHING.has(type) || compiled.has(type),
    check(value: Json, type: string): string | null {
      if (ANYTHING.has(type)) return null;
      if (BASIC.has(type)) {
        const actual = typeName(value);
        return actual === 'null' || actual === type ? null : `expected ${type}, got ${actual}`;
      }
      const validate = compiled.get(type);
      if (!validate) return `unknown type ${type}`;
      if (validate(value)) return null;
      return `does not match schema ${type}: ${ajv.errorsText(validate.errors, { dataVar: 'value' })}`;
    },
  };
}
