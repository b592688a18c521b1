-- Starts a claimed workflow job: fenced by its grab token, takes it off lease expiry (grabbed_until
-- 'infinity': from now on its run protects it) and creates its run, at depth 0 or its parent run's
-- depth + 1. The new run row stays locked by this transaction until the first step commits with it.
-- Params: $1 job id bigint, $2 grab_token bigint, $3 unit id bigint, $4 now (null: database clock).
-- Returns the run (job_id, unit_id, depth, parent_job_id, steps, grab_token, arg); no row when the token no longer holds the job.
WITH c AS (
  SELECT coalesce($4::timestamptz, statement_timestamp()) AS now
), job AS (
  UPDATE jobs SET grabbed_until = 'infinity'
  WHERE id = $1 AND grab_token = $2 AND state = 'running'
  RETURNING id, parent_id, arg, grab_token
)
INSERT INTO workflow_runs (job_id, unit_id, depth, parent_job_id, steps, started_at, updated_at)
SELECT j.id, $3, coalesce((SELECT r.depth + 1 FROM workflow_runs r WHERE r.job_id = j.parent_id), 0), j.parent_id, 0, c.now, c.now
FROM job j CROSS JOIN c
ON CONFLICT (job_id) DO NOTHING
RETURNING job_id::text, unit_id::text, depth, parent_job_id::text, steps,
          (SELECT j.grab_token::text FROM job j) AS grab_token, (SELECT j.arg FROM job j) AS arg
