import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { parseEventSelector, selectorMatches, validateEvent, type DroverEvent } from './event.js';
import { fieldOf } from './field-of.test-support.js';
import { parseTriggerSpec } from './trigger-schedule.js';

const file = { type: 'io.cozy.files', verb: 'CREATED', doc: { _id: 'f1', name: 'a.txt', dir_id: 'd1', tags: ['x', 'y'], size: 42, meta: { kind: 'photo' } } } as const;
const updated = { type: 'io.cozy.files', verb: 'UPDATED', doc: { _id: 'f1', name: 'b.txt', dir_id: 'd1' }, oldDoc: { _id: 'f1', name: 'a.txt', dir_id: 'd1' } } as const;
const moved = { type: 'io.cozy.files', verb: 'UPDATED', doc: { _id: 'f1', name: 'a.txt', dir_id: 'd2' }, oldDoc: { _id: 'f1', name: 'a.txt', dir_id: 'd1' } } as const;
const updatedNoOld = { type: 'io.cozy.files', verb: 'UPDATED', doc: { _id: 'f1', name: 'b.txt' } } as const;
const contact = { type: 'io.cozy.contacts', verb: 'DELETED', doc: { id: 7 } } as const;

describe('selectors match as documented', () => {
  const cases: [string, DroverEvent, boolean][] = [
    ['io.cozy.files', file, true],
    ['io.cozy.files', contact, false],
    ['io.cozy', file, false], // the type is exact, not a prefix
    ['io.cozy.files:CREATED', file, true],
    ['io.cozy.files:UPDATED', file, false],
    ['io.cozy.files:CREATED,DELETED', file, true],
    ['io.cozy.files:ALL', file, true],
    ['io.cozy.files::f1', file, true], // empty verbs: any verb; values: the id
    ['io.cozy.files:CREATED:f1', file, true],
    ['io.cozy.files:CREATED:f2,f3', file, false],
    ['io.cozy.contacts:DELETED:7', contact, true], // an integer id is matched as its text
    ['io.cozy.files:CREATED:d1:dir_id', file, true],
    ['io.cozy.files:CREATED:d2:dir_id', file, false],
    ['io.cozy.files:CREATED:y:tags', file, true], // any element of an array
    ['io.cozy.files:CREATED:42:size', file, true], // numbers as text
    ['io.cozy.files:CREATED:photo:meta.kind', file, true], // dotted path
    ['io.cozy.files:CREATED:photo:meta.none', file, false],
    ['io.cozy.files:UPDATED:d1:dir_id', moved, true], // the old doc matched: still fires
    ['io.cozy.files:UPDATED:d3:dir_id', moved, false],
    ['io.cozy.files:UPDATED:!=:name', updated, true],
    ['io.cozy.files:UPDATED:!=:dir_id', updated, false],
    ['io.cozy.files:UPDATED:!=:name', moved, false],
    ['io.cozy.files:UPDATED:!=:name', updatedNoOld, false], // no old doc: no change can be seen
    ['io.cozy.files:ALL:!=:name', file, true], // a creation changes every field
    ['io.cozy.contacts io.cozy.files:CREATED', file, true], // any rule
    ['io.cozy.contacts io.cozy.files:DELETED', file, false],
  ];
  it.each(cases)('%s', (selector, event, expected) => {
    expect(selectorMatches(parseEventSelector(selector), validateEvent(event))).toBe(expected);
  });
});

describe('selectors refused, naming the field', () => {
  it.each([
    ['', 'no selector'],
    ['io.cozy.files:CREATE', 'unknown verb'],
    ['io.cozy.files:created', 'verbs are upper case'],
    ['io.cozy.files:CREATED:a:b:c', 'five parts'],
    ['io.cozy.files:CREATED:', 'an empty values part'],
    ['io.cozy.files:CREATED:a,,b', 'an empty value'],
    ['io.cozy.files:CREATED:a:', 'an empty field'],
    ['io.cozy.files:CREATED:a:x..y', 'an empty path segment'],
    ['io.cozy.files:UPDATED:!=', '!= without a field'],
    ['io.cozy.files:UPDATED:!=,a:name', '!= with other values'],
    ['.files', 'a type starting with a dot'],
    ['io/cozy', 'a slash in the type'],
  ])('%j (%s)', (selector) => {
    expect(fieldOf(() => parseEventSelector(selector, 'spec'))).toBe('spec');
    expect(fieldOf(() => parseTriggerSpec(`@event ${selector}`, 'spec'))).toBe('spec');
  });

  it('parsing never throws anything but a ValidationError naming the field, whatever it is given', () => {
    const alphabet = fc.constantFrom(...'io.cozyfiles:CREATEDUPDATDL,!= _-x1\t\u0000é*'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: alphabet, maxLength: 60 }), fc.string(), fc.anything()), (input) => {
        try {
          parseEventSelector(input, 'selector');
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).field).toBe('selector');
        }
        try {
          parseTriggerSpec(typeof input === 'string' ? `@event ${input}` : input, 'spec');
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).field).toBe('spec');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('events', () => {
  it('takes the id from _id or id, and carries the event as JSON', () => {
    const event = validateEvent(updated);
    expect(event.id).toBe('f1');
    expect(JSON.parse(event.json)).toEqual({ type: 'io.cozy.files', verb: 'UPDATED', id: 'f1', doc: updated.doc, oldDoc: updated.oldDoc });
    expect(validateEvent(contact as unknown as DroverEvent).id).toBe('7');
  });

  it.each([
    [{ verb: 'CREATED', doc: { _id: 'a' } }, 'type'],
    [{ type: 'a b', verb: 'CREATED', doc: { _id: 'a' } }, 'type'],
    [{ type: 't', verb: 'CREATE', doc: { _id: 'a' } }, 'verb'],
    [{ type: 't', doc: { _id: 'a' } }, 'verb'],
    [{ type: 't', verb: 'CREATED' }, 'doc'],
    [{ type: 't', verb: 'CREATED', doc: [] }, 'doc'],
    [{ type: 't', verb: 'CREATED', doc: {} }, 'doc._id'],
    [{ type: 't', verb: 'CREATED', doc: { _id: '' } }, 'doc._id'],
    [{ type: 't', verb: 'CREATED', doc: { id: 1.5 } }, 'doc.id'],
    [{ type: 't', verb: 'CREATED', doc: { _id: 'a', x: 'nul\u0000' } }, 'doc.x'],
    [{ type: 't', verb: 'UPDATED', doc: { _id: 'a' }, oldDoc: 'x' }, 'oldDoc'],
    [{ type: 't', verb: 'CREATED', doc: { _id: 'a' }, extra: 1 }, 'extra'],
    [{ type: 't', verb: 'CREATED', doc: { _id: 'a', big: 'x'.repeat(1024 * 1024) } }, 'doc'],
    ['an event', 'event'],
  ])('%j is refused naming %s', (input, field) => {
    expect(fieldOf(() => validateEvent(input))).toBe(field);
  });
});
