// Perl's view of JSON values, as JobCenter's compiled expressions see them: numeric and string
// conversion, truth, number formatting and string order. JobCenter decodes a workflow's state
// with JSON::MaybeXS into Perl values and runs the expression as Perl, so `"10" + 1` is 11,
// `null . "x"` is "x" and `"0"` is false. Where Perl would only warn and carry on with nonsense
// (a non-numeric string in arithmetic, an array as a string) Drover raises a WorkflowError instead.
import type { Json, Pos } from '../ast.js';
import { WorkflowError } from '../ports.js';

/** A JSON object (not an array, not null). */
export function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON type name of a value, for messages (`null boolean number string array object`). */
export function typeName(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

// Perl's looks_like_number, minus the forms JSON cannot hold (Inf, NaN) and hex (which Perl does
// not numify either): optional blanks, a sign, digits with an optional fraction and exponent.
const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/**
 * A value in numeric context. null is 0 and booleans are 1/0 (Perl: undef and JSON::PP::Boolean);
 * a string must look like a number. `what` names the operand in the error.
 */
export function toNumber(value: Json, what: string, pos?: Pos): number {
  if (value === null) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    if (NUMERIC.test(value)) return finite(Number(value.trim()), `${what} (${truncate(value)})`, pos);
    throw new WorkflowError('normal', `${what} is not a number: ${JSON.stringify(truncate(value))}`, pos);
  }
  throw new WorkflowError('normal', `${what} is an ${typeName(value)}, not a number`, pos);
}

/**
 * A value in string context. null is "" and booleans are "1"/"0" (JSON::PP::Boolean numifies and
 * Perl stringifies that); numbers print as Perl prints them. Arrays and objects have no string
 * form in Perl but an address, so they are an error here: `encode_json` gives their text.
 */
export function toText(value: Json, what: string, pos?: Pos): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return formatNumber(value);
  throw new WorkflowError('normal', `${what} is an ${typeName(value)}, not a string (use encode_json)`, pos);
}

/**
 * Perl's truth: undef, "", "0" and 0 are false (so is JSON false); every other string ("0.0",
 * "00", " ") is true, and so is every array and object, empty or not (a Perl reference is true).
 */
export function isTrue(value: Json): boolean {
  if (value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value !== '' && value !== '0';
  return true;
}

/**
 * A number as Perl prints it: integers exactly, everything else with 15 significant digits
 * (`%.15g`), so 0.1 + 0.2 prints "0.3" as in JobCenter, not JavaScript's "0.30000000000000004".
 */
export function formatNumber(n: number): string {
  if (Object.is(n, -0)) return '0';
  if (Number.isSafeInteger(n)) return String(n);
  if (!Number.isFinite(n)) return n > 0 ? 'Inf' : n < 0 ? '-Inf' : 'NaN';
  const exponential = n.toExponential(14);
  const [mantissa = '', expText = '0'] = exponential.split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 15) {
    const digits = stripZeros(mantissa);
    const sign = exp < 0 ? '-' : '+';
    return `${digits}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return stripZeros(Number(exponential).toFixed(14 - exp));
}

function stripZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** Perl's `cmp` without a locale: by code point (JavaScript's `<` compares UTF-16 units). */
export function compareText(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  const n = Math.min(left.length, right.length);
  for (let k = 0; k < n; k += 1) {
    const x = left[k]!.codePointAt(0)!;
    const y = right[k]!.codePointAt(0)!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return left.length === right.length ? 0 : left.length < right.length ? -1 : 1;
}

/** A deep copy, so that a value assigned to two places is two values (as after a JSON round-trip). */
export function copyJson(value: Json): Json {
  if (value === 0) return 0; // -0 too: JSON has no -0
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(value)) setOwn(out, key, copyJson(value[key]!));
  return out;
}

/** Reads an own property only: `constructor` or `__proto__` never reach Object.prototype. */
export function getOwn(object: { [key: string]: Json }, key: string): Json {
  return Object.hasOwn(object, key) ? object[key]! : null;
}

/** Writes an own data property: a key `__proto__` is a key, never a prototype change. */
export function setOwn(object: { [key: string]: Json }, key: string, value: Json): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * A finite number, or a WorkflowError: JSON has no Inf or NaN to carry the result on (and no -0,
 * which becomes 0 so that a value is the same before and after a round-trip through the store).
 */
export function finite(n: number, what: string, pos?: Pos): number {
  if (Number.isFinite(n)) return n === 0 ? 0 : n;
  throw new WorkflowError('normal', `${what}: the result is not a finite number`, pos);
}

/** Keeps messages short when they quote a value. */
export function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
