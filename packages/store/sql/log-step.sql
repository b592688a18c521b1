-- Appends a row to a workflow job's step log, numbered after its last (the run's row lock, held
-- by the step, keeps two steps of one run from taking one number).
-- Params: $1 job id bigint, $2 kind text, $3 detail jsonb, $4 now (null: database clock).
-- Returns step.
INSERT INTO workflow_steps (job_id, step, at, kind, detail)
SELECT $1, coalesce(max(s.step), 0) + 1, coalesce($4::timestamptz, statement_timestamp()), $2, $3::jsonb
FROM workflow_steps s WHERE s.job_id = $1
RETURNING step
