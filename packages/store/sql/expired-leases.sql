-- Lists running jobs whose lease has ended, oldest first: candidates for the lease-expiry sweep,
-- which then fails each through fail.sql with expired_only, fenced by the token read here.
-- Params: $1 limit int, $2 now (null: database clock), $3 all boolean (every running job, whatever its lease:
--   for an embedded store restarting, whose previous process is gone).
-- Returns id, grab_token, failures.
SELECT id::text, grab_token::text, failures
FROM jobs
WHERE state = 'running' AND ($3::boolean OR grabbed_until <= coalesce($2::timestamptz, statement_timestamp()))
ORDER BY grabbed_until
LIMIT $1
