/**
 * PostgreSQL's jsonb containment (`a @> b`) on parsed JSON, so that a remote worker's action
 * filter means in the controller exactly what `find_jobs` means in the database.
 */
import type { Json } from '@drover/core';

/**
 * Whether `doc` contains `pattern`: an object contains an object whose every key it has with a
 * contained value; an array contains an array whose every element it contains (in any order,
 * duplicates or not); an array also contains a lone scalar it holds (jsonb's special case for a
 * top-level array); scalars must be equal.
 */
export function jsonContains(doc: Json, pattern: Json, topLevel = true): boolean {
  if (Array.isArray(doc)) {
    if (Array.isArray(pattern)) return pattern.every((p) => doc.some((d) => jsonContains(d, p, false)));
    if (topLevel && !isObject(pattern)) return doc.some((d) => !Array.isArray(d) && !isObject(d) && d === pattern);
    return false;
  }
  if (isObject(doc)) {
    if (!isObject(pattern)) return false;
    return Object.entries(pattern).every(([key, p]) => Object.hasOwn(doc, key) && jsonContains(doc[key]!, p, false));
  }
  return !Array.isArray(pattern) && !isObject(pattern) && doc === pattern;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
