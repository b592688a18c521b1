/**
 * A namespace keeps tenants and tests apart: it names the PostgreSQL schema (through
 * `search_path`, so no SQL names a schema) and prefixes the broker's exchanges and queues.
 */
import { ValidationError } from '@drover/core';

/** The namespace when none is configured. */
export const DEFAULT_NAMESPACE = 'drover';

/** Lower-case so the schema name needs no quoting anywhere; 40 characters leaves room for prefixes in queue names. */
const NAMESPACE_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

/** Validates a namespace and returns the schema that holds its tables. */
export function schemaFor(namespace: string = DEFAULT_NAMESPACE, field = 'namespace'): string {
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace) || namespace.startsWith('pg_')) {
    throw new ValidationError(field, 'must be 1 to 40 characters of a-z, 0-9 and _, starting with a letter (and not pg_)');
  }
  return namespace;
}
