-- Reads a workflow job's step log, for the job view.
-- Params: $1 job id bigint.
-- Returns step, at, kind, detail, oldest first.
SELECT step, at, kind, detail FROM workflow_steps WHERE job_id = $1 ORDER BY step
