import { describe, expect, it } from 'vitest';
import type { Json } from '../ast.js';
import { createTypeChecker } from './types.js';

const types = createTypeChecker({
  money: { type: 'object', required: ['amount', 'currency'], properties: { amount: { type: 'number' }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } } },
  wallet: { type: 'array', items: { $ref: 'money' } },
});

describe('createTypeChecker', () => {
  it.each<[string, Json]>([
    ['number', 1.5], ['string', ''], ['boolean', false], ['null', null], ['array', []], ['object', {}],
    ['json', [1, { a: null }]], ['any', 'x'],
  ])('%s accepts %j', (type, value) => {
    expect(types.check(value, type)).toBeNull();
  });

  it.each<[string, Json, string]>([
    ['number', '1', 'expected number, got string'],
    ['string', 1, 'expected string, got number'],
    ['boolean', 0, 'expected boolean, got number'],
    ['array', {}, 'expected array, got object'],
    ['object', [], 'expected object, got array'],
    ['null', false, 'expected null, got boolean'],
  ])('%s refuses %j', (type, value, message) => {
    expect(types.check(value, type)).toBe(message);
  });

  it('lets null through every basic type, as JobCenter does', () => {
    for (const type of ['number', 'string', 'boolean', 'array', 'object']) expect(types.check(null, type)).toBeNull();
  });

  it('checks named schemas, which may refer to each other', () => {
    expect(types.check({ amount: 5, currency: 'EUR' }, 'money')).toBeNull();
    expect(types.check({ amount: 5, currency: 'euro' }, 'money')).toMatch(/^does not match schema money: .*currency/);
    expect(types.check([{ amount: 1, currency: 'USD' }], 'wallet')).toBeNull();
    expect(types.check([{ amount: '1', currency: 'USD' }], 'wallet')).toMatch(/does not match schema wallet/);
    expect(types.check(null, 'money')).toMatch(/does not match/);
  });

  it('knows the basic types and the registered schemas only', () => {
    expect(['number', 'json', 'any', 'money', 'wallet'].every((t) => types.knows(t))).toBe(true);
    expect(types.knows('integer')).toBe(false);
    expect(types.check(1, 'integer')).toBe('unknown type integer');
  });

  it('fails at creation, naming the schema, when one does not compile or shadows a basic type', () => {
    expect(() => createTypeChecker({ broken: { type: 'no-such-type' } })).toThrow(/"broken"/);
    expect(() => createTypeChecker({ dangling: { $ref: 'nowhere' } })).toThrow(/"dangling"/);
    expect(() => createTypeChecker({ number: { type: 'string' } })).toThrow(/shadows a basic type/);
  });
});
