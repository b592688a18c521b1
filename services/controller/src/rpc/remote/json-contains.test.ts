import { describe, expect, it } from 'vitest';
import { jsonContains } from './json-contains.js';

describe('jsonContains (jsonb @>)', () => {
  it('matches objects by subset, recursively', () => {
    expect(jsonContains({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBe(true);
    expect(jsonContains({ a: 1 }, { a: 2 })).toBe(false);
    expect(jsonContains({ a: 1 }, { b: 1 })).toBe(false);
    expect(jsonContains({ a: 1 }, {})).toBe(true);
    expect(jsonContains({ a: null }, { a: null })).toBe(true);
  });

  it('matches arrays by elements in any order, and a top-level array holding a scalar', () => {
    expect(jsonContains({ tags: ['x', 'y', 'z'] }, { tags: ['z', 'x'] })).toBe(true);
    expect(jsonContains({ tags: ['x'] }, { tags: ['x', 'w'] })).toBe(false);
    expect(jsonContains({ tags: ['x'] }, { tags: 'x' })).toBe(false);
    expect(jsonContains(['x', 1], 1)).toBe(true);
    expect(jsonContains([{ a: 1, b: 2 }], [{ a: 1 }])).toBe(true);
  });

  it('does not see inherited properties as keys', () => {
    expect(jsonContains({}, { constructor: {} })).toBe(false);
    expect(jsonContains({ a: 1 }, { toString: null })).toBe(false);
  });
});
