/**
 * A remote worker's filter must mean what `find_jobs` means: PostgreSQL's jsonb `@>`. Generated
 * documents and patterns (from a small alphabet, so that matches are common) are checked against
 * PostgreSQL itself.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Json } from '@drover/core';
import { useTestNamespace } from '@drover/testing';
import { jsonContains } from '../src/rpc/remote/json-contains.js';

const ns = useTestNamespace();

const { json } = fc.letrec<{ json: Json }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Json>(1, 2, 'x', 'y', true, null),
    fc.array(tie('json'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('json'), { maxKeys: 3 }),
  ),
}));

/** A pattern taken from inside `doc` (some keys, some elements, recursively): mostly contained. */
function partOf(doc: Json): fc.Arbitrary<Json> {
  if (Array.isArray(doc)) return fc.subarray(doc).chain((items) => (items.length === 0 ? fc.constant<Json>([]) : fc.tuple(...items.map(partOf))));
  if (typeof doc === 'object' && doc !== null) {
    return fc.subarray(Object.keys(doc)).chain((keys) =>
      keys.length === 0 ? fc.constant<Json>({}) : fc.tuple(...keys.map((k) => partOf(doc[k]!))).map((values) => Object.fromEntries(keys.map((k, i) => [k, values[i]!]))),
    );
  }
  return fc.constant(doc);
}

const pair = fc.oneof(fc.tuple(json, json), json.chain((doc) => fc.tuple(fc.constant(doc), partOf(doc))));

describe('jsonContains', () => {
  it('agrees with PostgreSQL jsonb @> on generated documents and patterns', async () => {
    let matches = 0;
    await fc.assert(
      fc.asyncProperty(pair, async ([doc, pattern]) => {
        const { rows } = await ns.pool.query<{ contains: boolean }>('SELECT $1::jsonb @> $2::jsonb AS contains', [JSON.stringify(doc), JSON.stringify(pattern)]);
        expect(jsonContains(doc, pattern)).toBe(rows[0]!.contains);
        if (rows[0]!.contains) matches++;
      }),
      { numRuns: 1_000 },
    );
    // Both answers were tried often: a containment that always said no would not pass.
    expect(matches).toBeGreaterThan(100);
  });
});
