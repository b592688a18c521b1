-- Dispatched jobs whose message went unclaimed for stale_ms: candidates for a re-publish (a lost
-- message), oldest dispatch first.
-- Params: $1 limit int, $2 stale_ms bigint, $3 now (null: database clock).
-- Returns id, funcname, priority, state ('dispatched'), version (the row's xmin, for mark-dispatched.sql).
SELECT id::text, funcname, priority, state, xmin::text AS version
FROM jobs
WHERE state = 'dispatched'
  AND dispatched_at <= coalesce($3::timestamptz, statement_timestamp()) - $2::bigint * interval '1 millisecond'
ORDER BY dispatched_at
LIMIT $1
