-- Promotes scheduled jobs whose run_after has come to ready, oldest due first, skipping rows
-- another scheduler is promoting.
-- Params: $1 limit int, $2 now (null: database clock).
-- Returns promoted: how many jobs became ready.
WITH due AS (
  SELECT id FROM jobs
  WHERE state = 'scheduled' AND run_after <= coalesce($2::timestamptz, now())
  ORDER BY run_after
  LIMIT $1
  FOR UPDATE SKIP LOCKED
), promoted AS (
  UPDATE jobs j SET state = 'ready' FROM due WHERE j.id = due.id RETURNING 1
)
SELECT count(*)::int AS promoted FROM promoted
