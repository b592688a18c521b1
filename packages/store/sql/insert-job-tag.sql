-- Records the workflow version tag a new job asks for, in the transaction that inserted the job.
-- Params: $1 job id bigint, $2 tag text.
-- Returns nothing.
INSERT INTO workflow_job_tags (job_id, tag) VALUES ($1, $2)
ON CONFLICT (job_id) DO NOTHING
