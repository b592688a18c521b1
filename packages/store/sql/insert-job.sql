-- Inserts one job: the single-enqueue fast path (insert-jobs.sql handles batches). A live job with
-- the same (funcname, uniqkey) makes it insert nothing, and the caller then looks the holder up.
-- Params: $1 funcname, $2 arg jsonb, $3 uniqkey, $4 run_after (null: now), $5 priority smallint,
--   $6 coalesce_key, $7 max_retries int, $8 timeout_ms int, $9 now (null: database clock).
-- Returns id of the inserted job; no row for a duplicate.
WITH c AS (
  SELECT coalesce($9::timestamptz, statement_timestamp()) AS now
)
INSERT INTO jobs (funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms, created_at)
SELECT $1, $2::jsonb, $3, CASE WHEN coalesce($4::timestamptz, c.now) <= c.now THEN 'ready' ELSE 'scheduled' END,
       $5::smallint, coalesce($4::timestamptz, c.now), $6, $7::int, $8::int, c.now
FROM c
ON CONFLICT (funcname, uniqkey) WHERE uniqkey IS NOT NULL DO NOTHING
RETURNING id::text
