/**
 * The wait graph's one computation done in the application: the cycle a refused lock wait reports.
 * The database returns the reachable edges (sql/workflow-lock-cycle.sql); the shortest path is
 * found here, breadth first, which a recursive query could only do by enumerating paths.
 */

/**
 * The shortest path from `from` to `to` over the edges, breadth first, without `to` itself:
 * `[from, …]`. The guard keeps the graph still between the reachability check and the edges' read,
 * so a path exists; not finding one is a bug, reported as such.
 */
export function shortestPath(edges: readonly { src: string; dst: string }[], from: string, to: string): string[] {
  const next = new Map<string, string[]>();
  for (const { src, dst } of edges) next.set(src, [...(next.get(src) ?? []), dst]);
  const previous = new Map<string, string>([[from, from]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const dst of next.get(node) ?? []) {
      if (dst === to) {
        const path = [node];
        while (path[0] !== from) path.unshift(previous.get(path[0]!)!);
        return path;
      }
      if (!previous.has(dst)) {
        previous.set(dst, node);
        queue.push(dst);
      }
    }
  }
  throw new Error(`workflow lock: job ${to} was found reachable from ${from}, but no path leads there`);
}
