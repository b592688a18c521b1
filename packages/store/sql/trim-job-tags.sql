-- Deletes the requested tags of jobs no longer live that never started (cancelled before a claim,
-- or a duplicate's tag): a started run deletes its own. Params: none.
-- Returns job_id of each row deleted.
DELETE FROM workflow_job_tags t
WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id)
RETURNING t.job_id::text
