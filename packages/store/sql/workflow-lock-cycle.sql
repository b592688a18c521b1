-- Looks for a path in the wait graph from the job a waiter would wait for back to the waiter. Edges:
-- a lock waiter to the lock's current user (innermost borrower, else holder), and a parent to each
-- of its live children (a workflow waits for its children). Stops at the first path found.
-- Params: $1 waiter bigint, $2 the lock's current user bigint.
-- Returns path (text[]: the waiter, its blocker, …, the job that leads back to the waiter); no row: no cycle.
WITH RECURSIVE edges(src, dst) AS (
  SELECT w.job_id, coalesce(l.borrowers[cardinality(l.borrowers)], l.holder)
  FROM workflow_lock_waits w JOIN workflow_locks l ON l.lock_type = w.lock_type AND l.lock_value = w.lock_value
  UNION ALL
  SELECT j.parent_id, j.id FROM jobs j WHERE j.parent_id IS NOT NULL
), walk(node, path) AS (
  SELECT $2::bigint, ARRAY[$1::bigint, $2::bigint]
  UNION ALL
  SELECT e.dst, walk.path || e.dst
  FROM walk JOIN edges e ON e.src = walk.node
  WHERE walk.node <> $1::bigint AND (e.dst = $1::bigint OR NOT e.dst = ANY (walk.path))
)
SELECT walk.path[1:cardinality(walk.path) - 1]::text[] AS path FROM walk WHERE walk.node = $1::bigint LIMIT 1
