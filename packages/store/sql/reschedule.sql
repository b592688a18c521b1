-- Moves a live job that is not running to a new time (Garivini's reschedule): an absolute time,
-- 'infinity' for never, or now + offset_ms.
-- Params: $1 id bigint, $2 run_after timestamptz (null: use $3), $3 offset_ms bigint, $4 now (null: database clock).
-- Returns the job (all_jobs columns), or no row when it is not live or is running.
WITH c AS (
  SELECT coalesce($4::timestamptz, statement_timestamp()) AS now
), moved AS (
  UPDATE jobs j
  SET run_after = coalesce($2::timestamptz, c.now + $3::bigint * interval '1 millisecond'),
      state = CASE WHEN coalesce($2::timestamptz, c.now + $3::bigint * interval '1 millisecond') <= c.now THEN 'ready' ELSE 'scheduled' END,
      dispatched_at = NULL
  FROM c
  WHERE j.id = $1 AND j.state IN ('scheduled', 'ready', 'dispatched')
  RETURNING j.*
)
SELECT id::text, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms,
       attempts, failures, grabbed_until, created_at, NULL::timestamptz AS finished_at, 'null'::jsonb AS result
FROM moved
