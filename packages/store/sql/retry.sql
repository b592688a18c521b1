-- Puts a failed or cancelled job back to ready, its failure count reset to give it a full set of
-- retries; its attempt count and failure log go on. Fails with a unique violation when another
-- live job holds its (funcname, uniqkey), and then changes nothing. A workflow job's run ended
-- with it, so a retried workflow starts again from the start (the engine makes a new run).
-- Params: $1 id bigint, $2 now (null: database clock).
-- Returns the job (all_jobs columns), or no row when it is not a failed or cancelled job.
WITH c AS (
  SELECT coalesce($2::timestamptz, statement_timestamp()) AS now
), back AS (
  DELETE FROM finished_jobs WHERE id = $1 AND state IN ('failed', 'cancelled') RETURNING *
), revived AS (
  INSERT INTO jobs (id, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms, attempts, failures, created_at, trigger_id, parent_id)
  SELECT b.id, b.funcname, b.arg, b.uniqkey, 'ready', b.priority, c.now, b.coalesce_key, b.max_retries, b.timeout_ms, b.attempts, 0, b.created_at, b.trigger_id, b.parent_id
  FROM back b CROSS JOIN c
  RETURNING *
)
SELECT id::text, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms,
       attempts, failures, grabbed_until, created_at, NULL::timestamptz AS finished_at, 'null'::jsonb AS result
FROM revived
