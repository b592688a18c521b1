// Variable paths (`v.order.lines[2].sku`): reading, where anything missing is null (Perl's undef),
// and writing, where missing intermediates are created as Perl autovivifies them. Stepping into a
// value of the wrong kind (a key of a string, an index of an object) is an error, as it is under
// Perl's `use strict 'refs'`, with the path named up to the offending step.
import type { Json, PathPart, Pos, Scope } from '../ast.js';
import { WorkflowError } from '../ports.js';
import { getOwn, isObject, setOwn, typeName } from './values.js';

/** The path as JCL writes it, for messages: `v.a.b[2]`. */
export function pathText(scope: Scope, path: readonly PathPart[], upTo = path.length): string {
  let text: string = scope;
  for (const part of path.slice(0, upTo)) {
    text += `.${part.key}`;
    if (part.index !== undefined) text += `[${part.index}]`;
  }
  return text;
}

/** The value at a path below a scope's object; null when any step is missing or null. */
export function readPath(root: { [key: string]: Json }, scope: Scope, path: readonly PathPart[], pos?: Pos): Json {
  let current: Json = root;
  for (let k = 0; k < path.length; k += 1) {
    const part = path[k]!;
    if (current === null) return null;
    if (!isObject(current)) throw wrongKind(scope, path, k, current, 'an object', pos);
    current = getOwn(current, part.key);
    if (part.index === undefined) continue;
    if (current === null) return null;
    if (!Array.isArray(current)) throw wrongKind(scope, path, k, current, 'an array', pos, true);
    const at = part.index < 0 ? current.length + part.index : part.index;
    current = at >= 0 && at < current.length ? current[at]! : null;
  }
  return current;
}

/**
 * Stores a value at a path below a scope's object, creating the objects and arrays on the way
 * (an index past an array's end pads it with nulls, as Perl does). The path must not be empty:
 * a whole scope is replaced only by `<*>` or a block.
 */
export function writePath(root: { [key: string]: Json }, scope: Scope, path: readonly PathPart[], value: Json, pos?: Pos): void {
  if (path.length === 0) throw new WorkflowError('normal', `cannot assign to the whole scope ${scope}`, pos);
  let container: { [key: string]: Json } = root;
  for (let k = 0; k < path.length; k += 1) {
    const part = path[k]!;
    const last = k === path.length - 1;
    if (part.index === undefined) {
      if (last) return setOwn(container, part.key, value);
      container = child(container, part.key, () => ({}), scope, path, k, pos);
      continue;
    }
    const array = childArray(container, part.key, scope, path, k, pos);
    const at = part.index < 0 ? array.length + part.index : part.index;
    if (at < 0) {
      throw new WorkflowError('normal', `index ${part.index} is before the start of ${pathText(scope, path, k + 1)}`, pos);
    }
    while (array.length < at) array.push(null);
    if (last) {
      array[at] = value;
      return;
    }
    const next = array[at] ?? null;
    if (next === null) {
      const created = {};
      array[at] = created;
      container = created;
    } else if (isObject(next)) {
      container = next;
    } else {
      throw wrongKind(scope, path, k + 1, next, 'an object', pos);
    }
  }
}

function child(
  container: { [key: string]: Json },
  key: string,
  create: () => { [key: string]: Json },
  scope: Scope,
  path: readonly PathPart[],
  k: number,
  pos?: Pos,
): { [key: string]: Json } {
  const existing = getOwn(container, key);
  if (existing === null) {
    const created = create();
    setOwn(container, key, created);
    return created;
  }
  if (isObject(existing)) return existing;
  throw wrongKind(scope, path, k + 1, existing, 'an object', pos);
}

function childArray(
  container: { [key: string]: Json },
  key: string,
  scope: Scope,
  path: readonly PathPart[],
  k: number,
  pos?: Pos,
): Json[] {
  const existing = getOwn(container, key);
  if (existing === null) {
    const created: Json[] = [];
    setOwn(container, key, created);
    return created;
  }
  if (Array.isArray(existing)) return existing;
  throw wrongKind(scope, path, k, existing, 'an array', pos, true);
}

/** `k` is the number of path steps the offending value sits below (0: the scope itself). */
function wrongKind(
  scope: Scope,
  path: readonly PathPart[],
  k: number,
  found: Json,
  wanted: string,
  pos?: Pos,
  keyOnly = false,
): WorkflowError {
  const where = keyOnly
    ? `${pathText(scope, path, k)}.${path[k]!.key}`
    : pathText(scope, path, k);
  return new WorkflowError('normal', `${where} is ${article(typeName(found))}, not ${wanted}`, pos);
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
