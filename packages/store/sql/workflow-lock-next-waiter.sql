-- The oldest job waiting for a workflow lock, among all waiters or only among a job's descendants
-- (who may borrow an inherited lock from it).
-- Params: $1 lock_type text, $2 lock_value text, $3 ancestor bigint (null: any waiter).
-- Returns job_id, inherit; no row when none waits.
SELECT w.job_id::text AS job_id, w.inherit FROM workflow_lock_waits w
WHERE w.lock_type = $1 AND w.lock_value = $2 AND ($3::bigint IS NULL OR $3::bigint = ANY (w.ancestors))
ORDER BY w.since, w.seq LIMIT 1
