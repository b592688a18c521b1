-- Takes a free workflow lock for a job (the guard is held, so it is free when read so).
-- Params: $1 job_id bigint, $2 lock_type text, $3 lock_value text, $4 inherit boolean, $5 now timestamptz (null: the database's).
-- Returns nothing.
INSERT INTO workflow_locks (lock_type, lock_value, holder, inherit, acquired_at)
VALUES ($2, $3, $1::bigint, $4, coalesce($5::timestamptz, now()))
