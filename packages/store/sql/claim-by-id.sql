-- Claims jobs by id: each that is ready or dispatched becomes running, with a lease and a fresh
-- grab token. A job claimed elsewhere, finished, cancelled or not yet due is left alone: under
-- concurrent claims the row lock makes exactly one claimer match.
-- Params: $1 id bigint[], $2 lease_ms int, $3 now (null: database clock).
-- Returns the claimed jobs (live-job columns plus grab_token).
UPDATE jobs j
SET state = 'running',
    grab_token = nextval('grab_tokens'),
    grabbed_until = c.now + $2::int * interval '1 millisecond',
    attempts = j.attempts + 1
FROM (SELECT coalesce($3::timestamptz, now()) AS now) c
WHERE j.id = ANY ($1::bigint[])
  AND j.state IN ('ready', 'dispatched')
RETURNING j.id::text, j.funcname, j.arg, j.uniqkey, j.state, j.priority, j.run_after, j.coalesce_key,
          j.max_retries, j.timeout_ms, j.attempts, j.failures, j.grab_token::text, j.grabbed_until, j.created_at
