-- Lists running jobs whose lease has ended, oldest first: candidates for the lease-expiry sweep,
-- which then fails each through fail.sql with expired_only, fenced by the token read here. A lease
-- that ended shortly before or after the database (re)started is not listed until a grace period
-- after the start: its worker could not renew it, nor write its outcome, while the database was down.
-- A workflow job driven by the engine holds grabbed_until 'infinity' (its run protects it) and is
-- never listed, not even with `all`.
-- Params: $1 limit int, $2 now (null: database clock), $3 all boolean (every running job, whatever its lease:
--   for an embedded store restarting, whose previous process is gone), $4 lookback ms bigint (a lease
--   that ended less than this before the start counts as ended in the outage), $5 grace ms bigint.
-- Returns id, grab_token, failures.
WITH c AS (
  SELECT coalesce($2::timestamptz, statement_timestamp()) AS now, pg_postmaster_start_time() AS started
)
SELECT j.id::text, j.grab_token::text, j.failures
FROM jobs j CROSS JOIN c
WHERE j.state = 'running' AND j.grabbed_until <> 'infinity'
  AND ($3::boolean OR (
    j.grabbed_until <= c.now
    AND (j.grabbed_until <= c.started - $4::bigint * interval '1 millisecond'
         OR c.now >= c.started + $5::bigint * interval '1 millisecond')))
ORDER BY j.grabbed_until
LIMIT $1
