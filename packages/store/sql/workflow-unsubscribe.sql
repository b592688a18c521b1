-- Ends a job's subscriptions: one by name, or all of them ($2 null); their queued events go with them.
-- Params: $1 job_id bigint, $2 name text (null: every subscription of the job).
-- Returns name of each subscription ended.
DELETE FROM workflow_subscriptions s WHERE s.job_id = $1::bigint AND ($2::text IS NULL OR s.name = $2) RETURNING s.name
