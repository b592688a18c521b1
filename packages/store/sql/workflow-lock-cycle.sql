-- The part of the wait graph reachable from the job a waiter would wait for, as edges, for the
-- caller to find the shortest cycle back to the waiter. Each edge is returned (and followed) once,
-- so the cost grows with the edges, not with the paths. Run only once workflow-lock-reaches.sql
-- found a cycle. Edges: a lock waiter to the lock's current user (innermost borrower, else
-- holder), and a parent to each of its live children (a workflow waits for its children).
-- Params: $1 waiter bigint, $2 the lock's current user bigint.
-- Returns src, dst (text job ids).
WITH RECURSIVE edges(src, dst) AS (
  SELECT w.job_id, coalesce(l.borrowers[cardinality(l.borrowers)], l.holder)
  FROM workflow_lock_waits w JOIN workflow_locks l ON l.lock_type = w.lock_type AND l.lock_value = w.lock_value
  UNION ALL
  SELECT j.parent_id, j.id FROM jobs j WHERE j.parent_id IS NOT NULL
), reach(src, dst) AS (
  SELECT e.src, e.dst FROM edges e WHERE e.src = $2::bigint
  UNION
  SELECT e.src, e.dst FROM reach r JOIN edges e ON e.src = r.dst WHERE r.dst <> $1::bigint
)
SELECT reach.src::text AS src, reach.dst::text AS dst FROM reach
