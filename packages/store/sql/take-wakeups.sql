-- Takes (deletes and returns) a locked run's queued wake-ups, in the step's transaction: rolled
-- back with the step if it fails. One appended while the step runs stays for the next step.
-- Params: $1 run id bigint.
-- Returns id, kind, child_id, payload (unordered: the caller sorts by id).
DELETE FROM workflow_wakeups WHERE run_id = $1
RETURNING id::text, kind, child_id::text, payload
