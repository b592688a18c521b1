/**
 * A namespace keeps tenants and tests apart: it names the PostgreSQL schema (through
 * `search_path`, so no SQL names a schema) and prefixes the broker's exchanges and queues.
 */
import pg from 'pg';
import { ValidationError } from '@drover/core';

/** The namespace when none is configured. */
export const DEFAULT_NAMESPACE = 'drover';

/**
 * Lower-case letters, digits and `_` only, so the name reads the same in SQL, in a NOTIFY channel
 * and in queue names; 40 characters leaves room for prefixes in queue names. A keyword such as
 * `user` or `order` fits the pattern, which is why every place that puts the schema into SQL text
 * quotes it ({@link quoteIdentifier}).
 */
const NAMESPACE_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

/**
 * Schemas that belong to PostgreSQL or to everyone: Drover's tables there would mix with other
 * software's (`public`), or the server refuses or hides them (`pg_*`, `information_schema`).
 */
const RESERVED_SCHEMAS = new Set(['public', 'information_schema']);

/** Validates a namespace and returns the schema that holds its tables. */
export function schemaFor(namespace: string = DEFAULT_NAMESPACE, field = 'namespace'): string {
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
    throw new ValidationError(field, 'must be 1 to 40 characters of a-z, 0-9 and _, starting with a letter');
  }
  if (namespace.startsWith('pg_') || RESERVED_SCHEMAS.has(namespace)) {
    throw new ValidationError(field, `"${namespace}" is a reserved or system schema (public, information_schema, pg_*); choose a name of Drover's own`);
  }
  return namespace;
}

/**
 * Quotes a schema or channel name for SQL text (`"user"`): a valid namespace may be a keyword, and
 * an unquoted keyword breaks the statement. The one place where a name enters SQL text unparameterised.
 */
export function quoteIdentifier(name: string): string {
  return pg.escapeIdentifier(name);
}
