-- Lists a job's ancestors, parent first: the chain of parent_id through live jobs (a workflow's
-- ancestors are running while it runs). Used to lend `inherit` locks to descendants.
-- Params: $1 job id bigint.
-- Returns id, nearest first; nothing for a job without a parent.
WITH RECURSIVE chain (id, depth) AS (
  SELECT parent_id, 1 FROM jobs WHERE id = $1 AND parent_id IS NOT NULL
  UNION ALL
  -- The depth bound stops a corrupted cycle; max_depth keeps real chains far below it.
  SELECT j.parent_id, c.depth + 1 FROM chain c JOIN jobs j ON j.id = c.id
  WHERE j.parent_id IS NOT NULL AND c.depth < 100
)
SELECT id::text FROM chain ORDER BY depth
