-- Deletes the requested tags of jobs that no longer exist, live or finished (trimmed from the
-- history, or never committed). A finished job keeps its tag: a retried workflow asks for it again.
-- Params: none. Returns job_id of each row deleted.
DELETE FROM workflow_job_tags t
WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id)
  AND NOT EXISTS (SELECT 1 FROM finished_jobs f WHERE f.id = t.job_id)
RETURNING t.job_id::text
