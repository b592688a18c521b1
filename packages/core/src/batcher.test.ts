import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

describe('Batcher', () => {
  it('puts calls of one turn in one batch, in order, and caps the batch size', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>(async (xs) => {
      batches.push(xs);
      return xs.map((x) => x * 10);
    }, 3);
    const results = await Promise.all([1, 2, 3, 4, 5].map((x) => batcher.add(x)));
    expect(results).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
    expect(await batcher.add(6)).toBe(60);
    expect(batches.at(-1)).toEqual([6]);
  });

  it('rejects every call of a failed batch', async () => {
    const batcher = new Batcher<number, number>(async () => {
      throw new Error('db down');
    }, 10);
    const results = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('holds calls made while the in-flight limit is reached, then sends them as one batch', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new Batcher<number, number>(async (xs) => {
      batches.push(xs);
      if (batches.length === 1) await gate;
      return xs;
    }, 100, 1);
    const first = batcher.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [2, 3, 4].map((x) => batcher.add(x));
    await new Promise((resolve) => setImmediate(resolve));
    // The first batch has not returned: the others wait instead of taking a round trip each.
    expect(batches).toEqual([[1]]);
    release();
    expect(await Promise.all([first, ...rest])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });
});
