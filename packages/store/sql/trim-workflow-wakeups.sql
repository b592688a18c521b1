-- Deletes wake-ups whose run no longer exists: a child that finished while its parent's run was
-- being deleted may have appended one. Those more than a minute old only, so that no wake-up of a
-- run started by a transaction still in flight is taken.
-- Params: $1 now (null: database clock).
-- Returns id of each deleted wake-up.
DELETE FROM workflow_wakeups w
WHERE w.created_at < coalesce($1::timestamptz, statement_timestamp()) - interval '1 minute'
  AND NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.job_id = w.run_id)
RETURNING id::text
