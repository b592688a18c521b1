-- The workflow locks a job holds or borrows, in a fixed order, for its release at its end.
-- Params: $1 job_id bigint.
-- Returns lock_type, lock_value.
SELECT l.lock_type, l.lock_value FROM workflow_locks l
WHERE l.holder = $1::bigint OR l.borrowers @> ARRAY[$1::bigint]
ORDER BY l.lock_type, l.lock_value
