-- Ends a job's wait_for_event without an event (its timeout, or its end).
-- Params: $1 job_id bigint.
-- Returns job_id; no row when the job was not waiting (an event may have woken it first).
DELETE FROM workflow_event_waits w WHERE w.job_id = $1::bigint RETURNING w.job_id::text AS job_id
