-- Writes a run's state after a step that left it waiting (in the step's transaction).
-- Params: $1 job id bigint, $2 state jsonb, $3 waiting jsonb, $4 wake_at timestamptz, $5 steps int, $6 now (null: database clock).
-- Returns job_id; no row when the run is gone.
UPDATE workflow_runs
SET state = $2::jsonb, waiting = $3::jsonb, wake_at = $4::timestamptz, steps = $5::int,
    updated_at = coalesce($6::timestamptz, statement_timestamp())
WHERE job_id = $1
RETURNING job_id::text
