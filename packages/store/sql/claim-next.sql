-- Claims up to $2 claimable jobs of one function, highest priority first, then oldest due,
-- skipping rows another claimer holds so that concurrent claimers never wait on each other.
-- Params: $1 funcname, $2 limit int, $3 lease_ms int, $4 now (null: database clock).
-- Returns the claimed jobs (live-job columns plus grab_token).
WITH c AS (
  SELECT coalesce($4::timestamptz, statement_timestamp()) AS now
), picked AS (
  SELECT id FROM jobs
  WHERE funcname = $1 AND state IN ('ready', 'dispatched')
  ORDER BY priority DESC, run_after, id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
)
UPDATE jobs j
SET state = 'running',
    grab_token = nextval('grab_tokens'),
    grabbed_until = c.now + $3::int * interval '1 millisecond',
    attempts = j.attempts + 1
FROM picked p, c
WHERE j.id = p.id
RETURNING j.id::text, j.funcname, j.arg, j.uniqkey, j.state, j.priority, j.run_after, j.coalesce_key,
          j.max_retries, j.timeout_ms, j.attempts, j.failures, j.grab_token::text, j.grabbed_until, j.created_at
