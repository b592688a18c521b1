-- Forgets a workflow job's requested tag once its run has started (the run names its unit from then on).
-- Params: $1 job id bigint.
-- Returns nothing.
DELETE FROM workflow_job_tags WHERE job_id = $1
