import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldOf } from './field-of.test-support.js';
import { validateAncestors, validateLockKey, validateMask, validateSubscriptionNames, validateWorkflowEventData } from './workflow-ports.js';

const isId = (v: unknown): boolean => typeof v === 'string' && /^[1-9][0-9]*$/.test(v);

describe('workflow input checks', () => {
  it('take lock keys, names, masks and ancestors within their bounds', () => {
    expect(validateLockKey('account', 'a'.repeat(1000))).toEqual({ type: 'account', value: 'a'.repeat(1000) });
    expect(validateSubscriptionNames(['a', 'b', 'a'])).toEqual(['a', 'b']);
    expect(validateMask({})).toBe('{}');
    expect(validateMask({ doc: { dir_id: 'd1' } })).toBe('{"doc":{"dir_id":"d1"}}');
    expect(validateAncestors(undefined, isId)).toEqual([]);
    expect(validateAncestors(['3', '1'], isId)).toEqual(['3', '1']);
  });

  it('name the field of anything else', () => {
    const notText = fc.oneof(fc.constant(''), fc.constant('a\u0000'), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }));
    fc.assert(fc.property(notText, (bad) => fieldOf(() => validateLockKey(bad, 'v')) === 'type' && fieldOf(() => validateLockKey('t', bad)) === 'value'));
    expect(fieldOf(() => validateLockKey('t'.repeat(201), 'v'))).toBe('type');
    expect(fieldOf(() => validateLockKey('t', 'v'.repeat(1001)))).toBe('value');
    fc.assert(fc.property(notText, (bad) => fieldOf(() => validateSubscriptionNames(['ok', bad])) === 'names[1]'));
    expect(fieldOf(() => validateSubscriptionNames([]))).toBe('names');
    expect(fieldOf(() => validateSubscriptionNames(Array.from({ length: 101 }, (_, i) => `n${i}`)))).toBe('names');
    const notObject = fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.array(fc.integer(), { maxLength: 2 }));
    fc.assert(fc.property(notObject, (bad) => fieldOf(() => validateMask(bad)) === 'mask' && fieldOf(() => validateWorkflowEventData(bad)) === 'data'));
    expect(fieldOf(() => validateMask({ big: 'x'.repeat(70_000) }))).toBe('mask');
    expect(fieldOf(() => validateMask({ n: Number.POSITIVE_INFINITY }))).toBe('mask.n');
    expect(fieldOf(() => validateAncestors('1', isId))).toBe('parentJobIds');
    expect(fieldOf(() => validateAncestors(['1', 'x'], isId))).toBe('parentJobIds[1]');
  });
});
