-- Locks a job's subscriptions of these names FOR UPDATE, in the order raises lock them, so that a
-- raise matching one of them either commits before the wait starts or sees the wait.
-- Params: $1 job_id bigint, $2 names text[].
-- Returns name of each subscription found.
SELECT s.name FROM workflow_subscriptions s WHERE s.job_id = $1::bigint AND s.name = ANY ($2::text[])
ORDER BY s.job_id, s.name FOR UPDATE
