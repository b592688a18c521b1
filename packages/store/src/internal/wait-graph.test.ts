import { describe, expect, it } from 'vitest';
import { shortestPath } from './wait-graph.js';

const edges = (...pairs: [string, string][]): { src: string; dst: string }[] => pairs.map(([src, dst]) => ({ src, dst }));

describe('shortestPath', () => {
  it('returns the shortest path from the start to the job before the target', () => {
    // 2 -> 3 -> 4 -> 1 and the shortcut 2 -> 5 -> 1.
    expect(shortestPath(edges(['2', '3'], ['3', '4'], ['4', '1'], ['2', '5'], ['5', '1']), '2', '1')).toEqual(['2', '5']);
    expect(shortestPath(edges(['2', '1']), '2', '1')).toEqual(['2']);
  });

  it('survives cycles that do not lead to the target, and many paths to one node', () => {
    const layered = edges(['a', 'b'], ['b', 'a'], ['a', 'c1'], ['a', 'c2'], ['c1', 'd'], ['c2', 'd'], ['d', 'x']);
    expect(shortestPath(layered, 'a', 'x')).toEqual(['a', 'c1', 'd']);
  });

  it('reports a graph without the path as a bug', () => {
    expect(() => shortestPath(edges(['2', '3']), '2', '1')).toThrow(/no path/);
  });
});
