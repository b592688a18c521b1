-- Locks the next jobs to publish, for the relay's transaction: ready jobs, and dispatched jobs
-- whose message went unclaimed for stale_ms (a lost message), highest priority first. Locked rows
-- are skipped, so several relays take disjoint batches.
-- Params: $1 limit int, $2 stale_ms bigint (null: no re-publishing), $3 now (null: database clock).
-- Returns id, funcname, priority, state (ready or dispatched).
SELECT id::text, funcname, priority, state
FROM jobs
WHERE state = 'ready'
   OR ($2::bigint IS NOT NULL AND state = 'dispatched'
       AND dispatched_at <= coalesce($3::timestamptz, statement_timestamp()) - $2::bigint * interval '1 millisecond')
ORDER BY priority DESC, run_after, id
LIMIT $1
FOR UPDATE SKIP LOCKED
