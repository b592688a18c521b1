/**
 * Events and `@event` selectors (cozy-stack's realtime events and trigger rules). An event says
 * that a document of some type was created, updated or deleted; an `@event` trigger whose selector
 * matches it creates a job. Pure functions: the store raises events, the matching is decided here.
 *
 * A selector is one or more rules separated by spaces, any of which may match; a rule is
 * `type[:verbs][:values][:field]`, as cozy-stack writes permission rules:
 *   - `type`: the event's type, exactly (`io.cozy.files`);
 *   - `verbs`: a comma list of CREATED, UPDATED, DELETED; empty or ALL means any verb;
 *   - `values`: a comma list; without a field, the document's id must be one of them;
 *   - `field`: a (dotted) path in the document; one of its values must be one of `values`, in the
 *     document or, failing that, in the old document (a document that just stopped matching still
 *     fires, as in cozy-stack). The single value `!=` instead means "the field changed": true for
 *     CREATED and DELETED, and for UPDATED when the field differs between `oldDoc` and `doc`.
 */
import { isDeepStrictEqual } from 'node:util';
import { ValidationError } from './errors.js';
import type { Json } from './job.js';
import { toJsonText } from './validate.js';

/** What happened to the document: cozy-stack's realtime verbs. */
export const EVENT_VERBS = ['CREATED', 'UPDATED', 'DELETED'] as const;
/** One of {@link EVENT_VERBS}. */
export type EventVerb = (typeof EVENT_VERBS)[number];

/** An event as a producer raises it. */
export interface DroverEvent {
  /** The document's type (cozy-stack's doctype), e.g. `io.cozy.files`: letters, digits, `.`, `_`, `-`. */
  type: string;
  /** CREATED, UPDATED or DELETED. */
  verb: EventVerb;
  /** The document, a JSON object with its id as `_id` (CouchDB's) or `id` (a string or an integer). */
  doc: Record<string, unknown>;
  /** For UPDATED: the document before the change, which `field:!=` selectors compare against. */
  oldDoc?: Record<string, unknown> | null;
}

/** An event after validation: its id taken out of the document, and the JSON the jobs carry. */
export interface ValidEvent {
  type: string;
  verb: EventVerb;
  id: string;
  doc: Record<string, Json>;
  oldDoc: Record<string, Json> | null;
  /** `{ type, verb, id, doc, oldDoc? }` as JSON text: what a job's `arg.event` holds. */
  json: string;
}

/** One rule of a selector. */
export interface EventRule {
  type: string;
  /** null: any verb. */
  verbs: EventVerb[] | null;
  /** Empty: any document. */
  values: string[];
  /** The document field `values` are looked for in; null: the document's id. */
  field: string | null;
}

/**
 * A type name: what cozy-stack accepts for a doctype, and what a scope or a log line can carry
 * without quoting. 200 characters, as for a function name.
 */
const TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/** A field path: dot-separated names, none empty. */
const FIELD_PATTERN = /^[A-Za-z0-9_$@-]+(\.[A-Za-z0-9_$@-]+)*$/;
/** The change marker of a `field:!=` rule. */
const CHANGED = '!=';
/** More rules than this in one selector is a list that belongs in several triggers. */
const RULES_MAX = 20;
/** An event's JSON (document and old document) above 1 MiB is a document, not a notice about one; job args stay small. */
export const EVENT_MAX_BYTES = 1024 * 1024;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws a ValidationError naming `field` unless `type` is a type name. */
export function checkEventType(type: unknown, field = 'type'): string {
  if (typeof type !== 'string' || !TYPE_PATTERN.test(type)) {
    throw new ValidationError(field, 'must be a document type such as io.cozy.files: 1 to 200 letters, digits, and . _ -, starting with a letter or digit');
  }
  return type;
}

function parseVerbs(text: string, field: string): EventVerb[] | null {
  if (text === '' || text === 'ALL') return null;
  const verbs = text.split(',');
  for (const verb of verbs) {
    if (!(EVENT_VERBS as readonly string[]).includes(verb)) throw new ValidationError(field, `unknown verb "${verb}"; use ${EVENT_VERBS.join(', ')} or ALL, separated by commas`);
  }
  return [...new Set(verbs as EventVerb[])];
}

function parseRule(text: string, field: string): EventRule {
  const parts = text.split(':');
  if (parts.length > 4) throw new ValidationError(field, `"${text}" has ${parts.length} parts; a rule is type[:verbs][:values][:field]`);
  const [type = '', verbs, values, path] = parts;
  if (!TYPE_PATTERN.test(type)) throw new ValidationError(field, `"${type}" is not a document type (letters, digits, and . _ -, starting with a letter or digit)`);
  const rule: EventRule = { type, verbs: verbs === undefined ? null : parseVerbs(verbs, field), values: [], field: null };
  if (values !== undefined) {
    rule.values = values.split(',');
    if (rule.values.some((v) => v === '')) throw new ValidationError(field, `"${text}": values must be non-empty, separated by commas`);
  }
  if (path !== undefined) {
    if (!FIELD_PATTERN.test(path)) throw new ValidationError(field, `"${path}" is not a document field (names of letters, digits, _ $ @ -, separated by dots)`);
    rule.field = path;
  }
  if (rule.values.includes(CHANGED) && (rule.values.length > 1 || rule.field === null)) {
    throw new ValidationError(field, `"${text}": ${CHANGED} stands alone and needs a field, as in io.cozy.files:UPDATED:${CHANGED}:name`);
  }
  return rule;
}

/**
 * Parses an `@event` selector (rules separated by spaces) with errors naming `field`; throws
 * nothing but a ValidationError, whatever it is given.
 */
export function parseEventSelector(selector: unknown, field = 'spec'): EventRule[] {
  if (typeof selector !== 'string' || selector.trim() === '') throw new ValidationError(field, '@event takes a selector, such as io.cozy.files:CREATED');
  const rules = selector.trim().split(/\s+/);
  if (rules.length > RULES_MAX) throw new ValidationError(field, `a selector holds at most ${RULES_MAX} rules`);
  return rules.map((rule) => parseRule(rule, field));
}

/** The values of a (dotted) field of a document, as strings: a scalar's text, each scalar of an array. */
function fetchField(doc: Record<string, Json> | null, path: string): string[] {
  let at: Json | undefined = doc;
  for (const name of path.split('.')) {
    if (!isObject(at) || !Object.hasOwn(at, name)) return [];
    at = at[name];
  }
  const scalars = Array.isArray(at) ? at : [at];
  return scalars.filter((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean').map(String);
}

function ruleMatches(rule: EventRule, event: ValidEvent): boolean {
  if (rule.type !== event.type) return false;
  if (rule.verbs && !rule.verbs.includes(event.verb)) return false;
  if (rule.values.length === 0) return true;
  if (rule.field === null) return rule.values.includes(event.id);
  if (rule.values[0] === CHANGED) {
    // cozy-stack counts a creation and a deletion as a change of every field.
    if (event.verb !== 'UPDATED') return true;
    if (event.oldDoc === null) return false;
    return !isDeepStrictEqual(fetchField(event.doc, rule.field), fetchField(event.oldDoc, rule.field));
  }
  const among = (doc: Record<string, Json> | null): boolean => fetchField(doc, rule.field!).some((v) => rule.values.includes(v));
  return among(event.doc) || among(event.oldDoc);
}

/** Whether any rule of a parsed selector matches the event. */
export function selectorMatches(rules: readonly EventRule[], event: ValidEvent): boolean {
  return rules.some((rule) => ruleMatches(rule, event));
}

/** The document's id: `_id` (CouchDB's) or `id`, a non-empty string or an integer. */
function idOf(doc: Record<string, unknown>): string {
  for (const key of ['_id', 'id']) {
    if (!Object.hasOwn(doc, key)) continue;
    const id = doc[key];
    if (typeof id === 'string' && id !== '') return id;
    if (typeof id === 'number' && Number.isSafeInteger(id)) return String(id);
    throw new ValidationError(`doc.${key}`, 'must be a non-empty string or an integer');
  }
  throw new ValidationError('doc._id', 'the document needs an id, as _id or id');
}

/** Validates an event, naming the field at fault (`type`, `verb`, `doc`, `doc._id`, `oldDoc.x`…). */
export function validateEvent(input: unknown): ValidEvent {
  if (!isObject(input)) throw new ValidationError('event', 'must be an object { type, verb, doc }');
  const extra = Object.keys(input).find((k) => !['type', 'verb', 'doc', 'oldDoc'].includes(k));
  if (extra !== undefined) throw new ValidationError(extra, 'is not a field of an event, which is { type, verb, doc, oldDoc? }');
  if (input.type === undefined) throw new ValidationError('type', 'is required: the document type, such as io.cozy.files');
  const type = checkEventType(input.type);
  if (!(EVENT_VERBS as readonly unknown[]).includes(input.verb)) throw new ValidationError('verb', `must be one of ${EVENT_VERBS.join(', ')}`);
  const verb = input.verb as EventVerb;
  if (!isObject(input.doc)) throw new ValidationError('doc', 'must be a JSON object: the document');
  const id = idOf(input.doc);
  const oldDoc = input.oldDoc ?? null;
  if (oldDoc !== null && !isObject(oldDoc)) throw new ValidationError('oldDoc', 'must be a JSON object (the document before the change) or null');
  // Checked field by field so an error names doc.x or oldDoc.x.
  const docJson = toJsonText(input.doc, 'doc');
  const oldJson = oldDoc === null ? null : toJsonText(oldDoc, 'oldDoc');
  const json = `{"type":${JSON.stringify(type)},"verb":"${verb}","id":${JSON.stringify(id)},"doc":${docJson}${oldJson === null ? '' : `,"oldDoc":${oldJson}`}}`;
  if (Buffer.byteLength(json) > EVENT_MAX_BYTES) throw new ValidationError('doc', `the event must be at most ${EVENT_MAX_BYTES} bytes of JSON`);
  return { type, verb, id, doc: JSON.parse(docJson) as Record<string, Json>, oldDoc: oldJson === null ? null : (JSON.parse(oldJson) as Record<string, Json>), json };
}
