// JCL's built-in functions on evaluated arguments (JobCenter's make_func and JCL::Functions, with
// their aliases). `concat`, `array` and `object` take any number of arguments, the others one.
// The context-dependent ones are the evaluator's: `ifdef` (skips an assignment) and `list`
// (spreads into array(), object() and `,=`).
import { createHash } from 'node:crypto';
import type { Json, Pos } from '../ast.js';
import { WorkflowError } from '../ports.js';
import { joinText } from './operators.js';
import { compareText, formatNumber, isObject, setOwn, toNumber, toText, truncate, typeName } from './values.js';

type Builtin = (args: readonly Json[], name: string, pos?: Pos) => Json;

const one = (fn: (value: Json, name: string, pos?: Pos) => Json): Builtin => (args, name, pos) => {
  if (args.length !== 1) {
    throw new WorkflowError('normal', `${name}() takes one argument, got ${args.length}`, pos);
  }
  return fn(args[0]!, name, pos);
};

const encodeJson = one((value) => canonicalJson(value));
const decodeJson = one((value, name, pos) => {
  const text = toText(value, `the argument of ${name}`, pos);
  try {
    // A number too large for a double parses as Infinity, which no JSON value can hold.
    return JSON.parse(text, (_key, value: unknown) => {
      if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('a number is out of range');
      return value === 0 ? 0 : value;
    }) as Json;
  } catch (error) {
    throw new WorkflowError('normal', `${name}: not JSON (${(error as Error).message})`, pos);
  }
});
const encodeBase64 = one((value, name, pos) => Buffer.from(toText(value, `the argument of ${name}`, pos), 'utf8').toString('base64'));
const decodeBase64 = one((value, name, pos) => {
  const bytes = Buffer.from(toText(value, `the argument of ${name}`, pos), 'base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // JSON strings carry text, not bytes: Perl would hand back the raw bytes, Drover cannot.
    throw new WorkflowError('normal', `${name}: the decoded bytes are not UTF-8 text`, pos);
  }
});
const md5Hex = one((value, name, pos) => md5(toText(value, `the argument of ${name}`, pos)).toString('hex'));
// Digest::MD5's md5_base64 leaves out the `==` padding.
const md5Base64 = one((value, name, pos) => md5(toText(value, `the argument of ${name}`, pos)).toString('base64').replace(/=+$/, ''));
const keysOf = one((value, name, pos) => sortedKeys(objectArgument(value, name, pos)));
const valuesOf = one((value, name, pos) => {
  const object = objectArgument(value, name, pos);
  return sortedKeys(object).map((key) => object[key]!);
});

/** The built-ins by every name JobCenter accepts for them. */
export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['concat', (args, name, pos) => args.reduce<string>((text, arg, k) => joinText(text, toText(arg, `argument ${k + 1} of ${name}`, pos), pos), '')],
  ['defined', one((value) => value !== null)],
  ['ifdef', one((value) => value)],
  ['tostring', one((value, name, pos) => toText(value, `the argument of ${name}`, pos))],
  ['tonumber', one((value, name, pos) => toNumber(value, `the argument of ${name}`, pos))],
  ['array', (args) => [...args]],
  ['object', (args, name, pos) => buildObject(args, name, pos)],
  ['encode_json', encodeJson], ['to_json', encodeJson], ['tojson', encodeJson],
  ['decode_json', decodeJson], ['from_json', decodeJson], ['fromjson', decodeJson],
  ['encode_base64', encodeBase64], ['b64encode', encodeBase64],
  ['decode_base64', decodeBase64], ['b64decode', decodeBase64],
  ['md5_hex', md5Hex], ['md5', md5Hex],
  ['md5_base64', md5Base64], ['md5b64', md5Base64],
  ['keys', keysOf],
  ['values', valuesOf],
]);

/** `object(k1, v1, k2, v2, …)`: keys in string context, a later key overriding an earlier one. */
export function buildObject(args: readonly Json[], name: string, pos?: Pos): Json {
  if (args.length % 2 !== 0) {
    throw new WorkflowError('normal', `${name}() needs key and value pairs, got ${args.length} arguments`, pos);
  }
  const out: { [key: string]: Json } = {};
  for (let k = 0; k < args.length; k += 2) {
    setOwn(out, toText(args[k]!, `key ${k / 2 + 1} of ${name}`, pos), args[k + 1]!);
  }
  return out;
}

/**
 * The elements `list(x)` spreads: an array's elements, an object's keys and values (sorted by
 * key, where Perl's hash order is random). Anything else is an error, as in JCL::Functions.
 */
export function listElements(value: Json, pos?: Pos): Json[] {
  if (Array.isArray(value)) return [...value];
  if (isObject(value)) return sortedKeys(value).flatMap((key) => [key, value[key]!]);
  throw new WorkflowError('normal', `list(): not an array or object (${typeName(value)})`, pos);
}

/**
 * JSON with sorted keys (JobCenter's encoder is `canonical`) and numbers as Perl prints them,
 * so the same value always encodes to the same text, whatever order its keys were built in.
 */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return formatNumber(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  return `{${sortedKeys(value).map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(',')}}`;
}

function sortedKeys(object: { [key: string]: Json }): string[] {
  return Object.keys(object).sort(compareText);
}

function objectArgument(value: Json, name: string, pos?: Pos): { [key: string]: Json } {
  if (isObject(value)) return value;
  const shown = typeof value === 'string' ? ` ${JSON.stringify(truncate(value))}` : '';
  throw new WorkflowError('normal', `${name}(): not an object (${typeName(value)}${shown})`, pos);
}

function md5(text: string): Buffer {
  return createHash('md5').update(text, 'utf8').digest();
}
