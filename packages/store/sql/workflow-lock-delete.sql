-- Frees a workflow lock nobody waits for.
-- Params: $1 lock_type text, $2 lock_value text.
-- Returns nothing.
DELETE FROM workflow_locks WHERE lock_type = $1 AND lock_value = $2
