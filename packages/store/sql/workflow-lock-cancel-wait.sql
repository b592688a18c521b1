-- Ends a job's wait for a workflow lock (its timeout, or its end) without granting anything.
-- Params: $1 job_id bigint.
-- Returns lock_type, lock_value of the wait ended; no row when the job was not waiting.
DELETE FROM workflow_lock_waits w WHERE w.job_id = $1::bigint RETURNING w.lock_type, w.lock_value
