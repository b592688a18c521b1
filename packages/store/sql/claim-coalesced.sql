-- Claims up to $3 more claimable jobs of one function that share a coalesce value, so that one
-- worker can handle them together (TheSchwartz coalescing, e.g. all mail for one domain).
-- Params: $1 funcname, $2 coalesce_key, $3 limit int, $4 lease_ms int, $5 now (null: database clock).
-- Returns the claimed jobs (live-job columns plus grab_token).
WITH c AS (
  SELECT coalesce($5::timestamptz, statement_timestamp()) AS now
), picked AS (
  SELECT id FROM jobs
  WHERE funcname = $1 AND coalesce_key = $2 AND state IN ('ready', 'dispatched')
  ORDER BY priority DESC, run_after, id
  LIMIT $3
  FOR UPDATE SKIP LOCKED
)
UPDATE jobs j
SET state = 'running',
    grab_token = nextval('grab_tokens'),
    grabbed_until = c.now + $4::int * interval '1 millisecond',
    attempts = j.attempts + 1
FROM picked p, c
WHERE j.id = p.id
RETURNING j.id::text, j.funcname, j.arg, j.uniqkey, j.state, j.priority, j.run_after, j.coalesce_key,
          j.max_retries, j.timeout_ms, j.attempts, j.failures, j.grab_token::text, j.grabbed_until, j.created_at
