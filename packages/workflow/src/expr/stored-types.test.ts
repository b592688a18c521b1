import { describe, expect, it } from 'vitest';
import { checkJsonSchema, createReloadableTypeChecker } from './stored-types.js';

const order = { name: 'order', schema: { type: 'object', required: ['id'] } };

describe('createReloadableTypeChecker', () => {
  it('knows only the basic types until reloaded, then the schemas it was given', () => {
    const types = createReloadableTypeChecker();
    expect(types.knows('order')).toBe(false);
    types.reload([order]);
    expect(types.knows('order')).toBe(true);
    expect(types.check({ id: 1 }, 'order')).toBeNull();
    expect(types.check({}, 'order')).toMatch(/does not match schema order/);
    types.reload([]);
    expect(types.knows('order')).toBe(false);
  });

  it('keeps the schemas it had when a reload brings one that does not compile, naming it', () => {
    const types = createReloadableTypeChecker();
    types.reload([order]);
    expect(() => types.reload([order, { name: 'broken', schema: { type: 'no-such-type' } }])).toThrow(/"broken"/);
    expect(types.knows('order')).toBe(true);
    expect(types.knows('broken')).toBe(false);
  });
});

describe('checkJsonSchema', () => {
  it('accepts a schema that compiles, with $ref to the others, and refuses one that does not', () => {
    expect(() => checkJsonSchema('line', { type: 'object', properties: { order: { $ref: 'order' } } }, [order])).not.toThrow();
    expect(() => checkJsonSchema('line', { $ref: 'nowhere' })).toThrow(/"line"/);
    expect(() => checkJsonSchema('number', { type: 'object' })).toThrow(/shadows a basic type/);
    expect(() => checkJsonSchema('list', [1, 2])).toThrow(/not an object/);
  });
});
