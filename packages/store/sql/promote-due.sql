-- Promotes scheduled jobs whose run_after has come to ready, oldest due first, skipping rows
-- another scheduler is promoting.
-- Params: $1 limit int, $2 now (null: database clock).
-- Returns promoted: how many jobs became ready. When any did, wakes the relay (channel <schema>_jobs,
-- payload 'ready'), once per statement.
WITH due AS (
  SELECT id FROM jobs
  WHERE state = 'scheduled' AND run_after <= coalesce($2::timestamptz, statement_timestamp())
  ORDER BY run_after
  LIMIT $1
  FOR UPDATE SKIP LOCKED
), promoted AS (
  UPDATE jobs j SET state = 'ready' FROM due WHERE j.id = due.id RETURNING 1
)
SELECT count(*)::int AS promoted,
       CASE WHEN count(*) > 0 THEN pg_notify(current_schema() || '_jobs', 'ready') END AS notified
FROM promoted
