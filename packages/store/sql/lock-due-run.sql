-- Locks one run that must be stepped: it has wake-ups queued, or its wake time has come. Runs
-- another engine holds are skipped, so engines step different runs and never one run twice.
-- The candidates come from the wake-up queue (small: consumed at every step) and the wake_at index.
-- Params: $1 now (null: database clock).
-- Returns the run with its job's grab_token and arg (both null when the job is no longer live); no row when none is due.
WITH c AS (
  SELECT coalesce($1::timestamptz, statement_timestamp()) AS now
), due AS (
  SELECT run_id AS id FROM workflow_wakeups
  UNION
  SELECT r.job_id FROM workflow_runs r CROSS JOIN c WHERE r.wake_at <= c.now
)
SELECT r.job_id::text, r.unit_id::text, r.depth, r.parent_job_id::text, r.state, r.waiting, r.wake_at, r.steps,
       j.grab_token::text, j.arg
FROM workflow_runs r
JOIN due d ON d.id = r.job_id
LEFT JOIN jobs j ON j.id = r.job_id
ORDER BY r.updated_at
LIMIT 1
FOR UPDATE OF r SKIP LOCKED
