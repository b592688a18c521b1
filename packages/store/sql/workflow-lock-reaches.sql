-- Whether the waiter is reachable in the wait graph from the job it would wait for (a wait would
-- close a cycle), visiting each job once: the cheap check every wait runs; the path, costlier,
-- is read by workflow-lock-cycle.sql only when there is one. Edges as there.
-- Params: $1 waiter bigint, $2 the lock's current user bigint.
-- Returns cycle boolean.
WITH RECURSIVE edges(src, dst) AS (
  SELECT w.job_id, coalesce(l.borrowers[cardinality(l.borrowers)], l.holder)
  FROM workflow_lock_waits w JOIN workflow_locks l ON l.lock_type = w.lock_type AND l.lock_value = w.lock_value
  UNION ALL
  SELECT j.parent_id, j.id FROM jobs j WHERE j.parent_id IS NOT NULL
), reach(node) AS (
  SELECT $2::bigint
  UNION
  SELECT e.dst FROM reach JOIN edges e ON e.src = reach.node
)
SELECT EXISTS (SELECT 1 FROM reach WHERE reach.node = $1::bigint) AS cycle
