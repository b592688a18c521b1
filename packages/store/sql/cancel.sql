-- Cancels a live job, whatever its state: it moves to finished_jobs as cancelled. A worker still
-- running it holds a grab token that now matches nothing, so its outcome is refused.
-- Params: $1 id bigint, $2 keep_ms bigint, $3 now (null: database clock).
-- Returns the id when cancelled; no row when the job was not live.
WITH c AS (
  SELECT coalesce($3::timestamptz, statement_timestamp()) AS now
), gone AS (
  DELETE FROM jobs WHERE id = $1 RETURNING *
)
INSERT INTO finished_jobs (id, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms, attempts, failures, result, created_at, finished_at, delete_after, trigger_id)
SELECT g.id, g.funcname, g.arg, g.uniqkey, 'cancelled', g.priority, g.run_after, g.coalesce_key, g.max_retries,
       g.timeout_ms, g.attempts, g.failures, 'null', g.created_at, c.now, c.now + $2::bigint * interval '1 millisecond', g.trigger_id
FROM gone g CROSS JOIN c
RETURNING id::text
