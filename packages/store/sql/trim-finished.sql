-- Deletes finished jobs past their delete_after, with their failure logs and owners (TheSchwartz's
-- exit status trim).
-- Params: $1 limit int, $2 now (null: database clock).
-- Returns trimmed: how many finished jobs were deleted.
WITH gone AS (
  DELETE FROM finished_jobs
  WHERE id IN (
    SELECT id FROM finished_jobs
    WHERE delete_after <= coalesce($2::timestamptz, statement_timestamp())
    ORDER BY delete_after
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  )
  RETURNING id
), logs AS (
  DELETE FROM job_failures f USING gone g WHERE f.job_id = g.id
), owners AS (
  DELETE FROM job_owners o USING gone g WHERE o.job_id = g.id
)
SELECT count(*)::int AS trimmed FROM gone
