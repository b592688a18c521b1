-- Deletes a run and the wake-ups queued for it (its workflow job ended, or was cancelled).
-- Params: $1 job id bigint.
-- Returns job_id when a run was deleted.
WITH woken AS (
  DELETE FROM workflow_wakeups WHERE run_id = $1
)
DELETE FROM workflow_runs WHERE job_id = $1
RETURNING job_id::text
